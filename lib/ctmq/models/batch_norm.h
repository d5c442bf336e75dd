#pragma once
// BatchNorm2d with torch::nn::BatchNorm2d's parameter and buffer names, whose training-mode
// normalisation can be handed to a BatchNormSync (synchronised statistics across processes).

#include <memory>

#include <torch/torch.h>

#include "ctmq/models/batch_norm_sync.h"

namespace ctmq {

/// Drop-in for torch::nn::BatchNorm2d (affine, running statistics): weight, bias,
/// running_mean, running_var, num_batches_tracked.
class BatchNorm2dImpl : public torch::nn::Module {
 public:
  explicit BatchNorm2dImpl(int64_t num_features, double eps = 1e-5, double momentum = 0.1);

  torch::Tensor forward(const torch::Tensor& x);

  /// Installs (or, with nullptr, removes) the synchronised training-mode normalisation.
  void set_sync(std::shared_ptr<BatchNormSync> sync) { sync_ = std::move(sync); }

  /// Inference form (models/inference_form.h): in eval mode, forward() computes
  /// x * factor + offset per channel instead, two rounded operations: in float for a float x
  /// (factor and offset rounded to float once), in double for a double x, whose result it
  /// rounds to float once. `factor` and `offset` are double (C): the conv's weight scale and
  /// this BatchNorm folded together (fold_batch_norm). Undefined tensors undo it.
  void set_folded(torch::Tensor factor, torch::Tensor offset);

  int64_t num_features() const { return num_features_; }
  double eps() const { return eps_; }

  torch::Tensor weight;
  torch::Tensor bias;
  torch::Tensor running_mean;
  torch::Tensor running_var;
  torch::Tensor num_batches_tracked;

 private:
  int64_t num_features_;
  double eps_;
  double momentum_;
  std::shared_ptr<BatchNormSync> sync_;
  torch::Tensor folded_factor_;  ///< (1, C, 1, 1), double
  torch::Tensor folded_offset_;
  torch::Tensor folded_factor_float_;  ///< the same, rounded to float once
  torch::Tensor folded_offset_float_;
};
TORCH_MODULE(BatchNorm2d);

}  // namespace ctmq
