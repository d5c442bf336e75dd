#pragma once
// Synchronised batch normalisation: training-mode statistics over the global batch of all ranks,
// with the gradients of PyTorch's torch.nn.SyncBatchNorm.

#include <torch/torch.h>

#include "ctmq/dist/process_group.h"
#include "ctmq/models/batch_norm_sync.h"

namespace ctmq {

/// BatchNormSync over a DistContext (Gloo or NCCL, despite the name: it only needs all-reduce).
/// Forward all-reduces per-channel sums and count, then the sums of squares around the mean (two
/// small collectives, in double, reproducing LibTorch's CPU BatchNorm arithmetic to the bit);
/// backward all-reduces sum(dy) and sum(dy * (x - mean)) (one collective) when the input needs a
/// gradient. Weight and bias gradients stay local, as in PyTorch: the gradient all-reduce then
/// averages them. The context must outlive every graph built through this object.
class GlooSyncBatchNorm : public BatchNormSync {
 public:
  explicit GlooSyncBatchNorm(DistContext& context) : context_(context) {}

  torch::Tensor forward(const torch::Tensor& input, const torch::Tensor& weight,
                        const torch::Tensor& bias, torch::Tensor& running_mean,
                        torch::Tensor& running_var, double momentum, double eps) override;

 private:
  DistContext& context_;
};

}  // namespace ctmq
