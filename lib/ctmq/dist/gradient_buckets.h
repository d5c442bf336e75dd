#pragma once
// Data-parallel gradient averaging in buckets, as DDP does: many small gradients travel as a few
// flat buffers of about `bucket_bytes`, started one after another so that packing the next bucket
// overlaps the network transfer of the previous ones.

#include <torch/torch.h>

#include <cstddef>
#include <vector>

#include "ctmq/dist/process_group.h"

namespace ctmq {

/// DDP's default bucket size (25 MiB) suits GPUs; small CNNs on CPU do well with a few MiB.
constexpr size_t kDefaultBucketBytes = size_t{4} << 20;

/// Averages the gradients of a fixed list of parameters over the ranks.
class GradientBucketer {
 public:
  /// `params` in registration order (module.parameters()); they are bucketed in reverse order,
  /// roughly the order in which backward produces their gradients. A parameter larger than
  /// `bucket_bytes` gets a bucket of its own. Buckets never mix dtypes or devices.
  GradientBucketer(std::vector<torch::Tensor> params, size_t bucket_bytes = kDefaultBucketBytes);

  /// Replaces every parameter's gradient by its average over the ranks. An undefined gradient
  /// counts as zeros and is defined afterwards, so that every rank steps the same parameters.
  void all_reduce_average(DistContext& context);

  /// Parameter indices (into the constructor's list) of each bucket, in launch order.
  const std::vector<std::vector<size_t>>& buckets() const { return buckets_; }

 private:
  std::vector<torch::Tensor> params_;
  std::vector<std::vector<size_t>> buckets_;
};

}  // namespace ctmq
