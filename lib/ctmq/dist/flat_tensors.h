#pragma once
// Packing many small tensors into one flat buffer so that they cross the network in one
// collective: per-call latency, not bandwidth, dominates the small tensors of a CNN.

#include <torch/torch.h>

#include <vector>

namespace ctmq {

/// Indices of `tensors` grouped by (dtype, device), groups in order of first appearance, so that
/// each group can be concatenated into one buffer.
std::vector<std::vector<size_t>> group_by_dtype_and_device(
    const std::vector<torch::Tensor>& tensors);

/// The elements of `tensors` (all of one dtype and device) concatenated into one 1-D buffer of
/// `dtype` (bool tensors travel as uint8: not every backend reduces bool).
torch::Tensor flatten_tensors(const std::vector<torch::Tensor>& tensors, torch::Dtype dtype);

/// Copies consecutive slices of `flat` back into `tensors`, in place; the inverse of
/// flatten_tensors().
void unflatten_into(const torch::Tensor& flat, std::vector<torch::Tensor>& tensors);

}  // namespace ctmq
