#include "ctmq/dist/flat_tensors.h"

#include <algorithm>
#include <utility>

namespace ctmq {

std::vector<std::vector<size_t>> group_by_dtype_and_device(
    const std::vector<torch::Tensor>& tensors) {
  std::vector<std::pair<std::pair<torch::Dtype, torch::Device>, std::vector<size_t>>> groups;
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto key = std::make_pair(tensors[i].scalar_type(), tensors[i].device());
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& group) { return group.first == key; });
    if (it == groups.end()) {
      groups.push_back({key, {i}});
    } else {
      it->second.push_back(i);
    }
  }
  std::vector<std::vector<size_t>> result;
  result.reserve(groups.size());
  for (auto& group : groups) result.push_back(std::move(group.second));
  return result;
}

torch::Tensor flatten_tensors(const std::vector<torch::Tensor>& tensors, torch::Dtype dtype) {
  std::vector<torch::Tensor> views;
  views.reserve(tensors.size());
  for (const auto& tensor : tensors) views.push_back(tensor.reshape({-1}).to(dtype));
  return torch::cat(views);
}

void unflatten_into(const torch::Tensor& flat, std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (auto& tensor : tensors) {
    int64_t n = tensor.numel();
    tensor.copy_(flat.narrow(0, offset, n).view(tensor.sizes()));
    offset += n;
  }
}

}  // namespace ctmq
