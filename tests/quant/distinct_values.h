#pragma once

#include <torch/torch.h>

namespace ctmq::test {

/// Number of distinct values in a tensor: at most 2^b after b-bit quantization.
inline int64_t distinct(const torch::Tensor& t) {
  return std::get<0>(at::_unique(t.flatten())).numel();
}

}  // namespace ctmq::test
