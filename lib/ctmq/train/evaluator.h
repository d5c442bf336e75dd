#pragma once

#include <torch/torch.h>

#include <functional>

#include "ctmq/data/data_loader.h"
#include "ctmq/io/run_records.h"

namespace ctmq {

class DistContext;

/// Loss, Top-1 and Top-5 (percent) over a whole split, summed across ranks.
struct EvalMetrics {
  double loss = 0.0;
  double top1 = 0.0;
  double top5 = 0.0;
  int64_t images = 0;
};

/// Adds a batch (its logits, labels and mean loss) to the sums.
void add_batch(MetricSums& sums, const torch::Tensor& logits, const torch::Tensor& labels,
               const torch::Tensor& loss);
/// Averages of the sums (percent for Top-1 and Top-5).
EvalMetrics metrics_of(const MetricSums& sums);
/// Sums every rank's counts (collective: every rank calls it).
void all_reduce(MetricSums& sums, DistContext& dist);

/// This process's stop request (a signal number, 0 for none), asked before every batch.
using StopPoll = std::function<int()>;

/// Evaluates `forward` (logits of a batch) over every batch of `loader` in eval mode, without
/// gradients. `dist` (may be null) sums the counts of every rank. With `stop`, a stop request
/// on any rank ends the pass on every rank before its next batch: throws InterruptedError
/// (with this rank's signal, or SIGTERM's number where only another rank was asked).
EvalMetrics evaluate_split(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                           DataLoader& loader, const torch::Device& device, DistContext* dist,
                           const StopPoll& stop = {});

}  // namespace ctmq
