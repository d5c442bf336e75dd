#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "ctmq/data/data_loader.h"

namespace ctmq {

class DistContext;

/// Loss, Top-1 and Top-5 (percent) over a whole split, summed across ranks.
struct EvalMetrics {
  double loss = 0.0;
  double top1 = 0.0;
  double top5 = 0.0;
  int64_t images = 0;
};

/// Per-batch sums that make up EvalMetrics; also used for the training metrics of an epoch.
struct MetricSums {
  double loss_sum = 0.0;  ///< sum of per-image losses
  int64_t correct1 = 0;
  int64_t correct5 = 0;
  int64_t images = 0;
  void add(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& loss);
  EvalMetrics metrics() const;
  /// Sums every rank's counts (collective: every rank calls it).
  void all_reduce(DistContext& dist);
  nlohmann::json to_json() const;
  static MetricSums from_json(const nlohmann::json& doc);
};

/// Evaluates `forward` (logits of a batch) over every batch of `loader` in eval mode, without
/// gradients. `dist` (may be null) sums the counts of every rank.
EvalMetrics evaluate_split(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                           DataLoader& loader, const torch::Device& device, DistContext* dist);

}  // namespace ctmq
