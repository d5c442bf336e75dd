#include "ctmq/quant/encoded_weight.h"

namespace ctmq {

torch::Tensor group_view(const torch::Tensor& per_group, const torch::Tensor& like) {
  std::vector<int64_t> shape(static_cast<size_t>(like.dim()), 1);
  if (!shape.empty()) shape[0] = per_group.numel();
  return per_group.reshape(shape);
}

torch::Tensor decode_weight(const EncodedWeight& encoded) {
  torch::Tensor codes = encoded.codes.to(torch::kFloat);
  return codes * group_view(encoded.scale, codes) + group_view(encoded.offset, codes);
}

}  // namespace ctmq
