#pragma once
// The seam between BatchNorm layers (models/) and distributed training (dist/): a model's
// BatchNorm delegates its training-mode normalisation to this object when one is installed,
// so models/ never depends on dist/.

#include <torch/torch.h>

namespace ctmq {

/// Computes training-mode batch normalisation with statistics over the global batch.
class BatchNormSync {
 public:
  virtual ~BatchNormSync() = default;
  /// Normalises `input` (N, C, ...) with the batch statistics of all processes, updates the
  /// running statistics in place, and is differentiable w.r.t. input, weight and bias.
  virtual torch::Tensor forward(const torch::Tensor& input, const torch::Tensor& weight,
                                const torch::Tensor& bias, torch::Tensor& running_mean,
                                torch::Tensor& running_var, double momentum, double eps) = 0;
};

}  // namespace ctmq
