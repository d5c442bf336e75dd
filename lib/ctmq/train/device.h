#pragma once

#include <torch/torch.h>

#include <string>

namespace ctmq {

/// "cpu", "cuda" or "auto" -> a device; with several GPUs a process uses cuda:<local_rank>.
torch::Device resolve_device(const std::string& requested, int64_t local_rank);

}  // namespace ctmq
