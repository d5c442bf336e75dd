#include "ctmq/train/evaluator.h"

#include <csignal>

#include "ctmq/core/errors.h"
#include "ctmq/dist/process_group.h"

namespace ctmq {

void add_batch(MetricSums& sums, const torch::Tensor& logits, const torch::Tensor& labels,
               const torch::Tensor& loss) {
  const int64_t n = labels.size(0);
  const int64_t k = std::min<int64_t>(5, logits.size(1));
  auto top = std::get<1>(logits.topk(k, 1));
  auto hits = top.eq(labels.view({-1, 1}));
  sums.correct1 += hits.select(1, 0).sum().item<int64_t>();
  sums.correct5 += hits.any(1).sum().item<int64_t>();
  sums.loss_sum += loss.item<double>() * static_cast<double>(n);
  sums.images += n;
}

EvalMetrics metrics_of(const MetricSums& sums) {
  EvalMetrics m;
  m.images = sums.images;
  if (sums.images > 0) {
    m.loss = sums.loss_sum / sums.images;
    m.top1 = 100.0 * sums.correct1 / sums.images;
    m.top5 = 100.0 * sums.correct5 / sums.images;
  }
  return m;
}

void all_reduce(MetricSums& sums, DistContext& dist) {
  if (!dist.is_distributed()) return;
  auto total =
      dist.all_reduce_sum({sums.loss_sum, static_cast<double>(sums.correct1),
                           static_cast<double>(sums.correct5), static_cast<double>(sums.images)});
  sums.loss_sum = total[0];
  sums.correct1 = static_cast<int64_t>(total[1]);
  sums.correct5 = static_cast<int64_t>(total[2]);
  sums.images = static_cast<int64_t>(total[3]);
}

EvalMetrics evaluate_split(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                           DataLoader& loader, const torch::Device& device, DistContext* dist,
                           const StopPoll& stop) {
  torch::NoGradGuard no_grad;
  MetricSums sums;
  DeviceInput input(device);
  loader.start_epoch(0);
  const bool distributed = dist && dist->is_distributed();
  bool exhausted = false;
  for (;;) {
    std::optional<Batch> batch;
    if (!exhausted) batch = loader.next();
    exhausted = !batch;
    if (stop) {
      // Ranks agree before every batch, as training does before every step. Shards differ by up
      // to a batch, so a rank out of batches keeps voting until every rank is.
      const int mine = stop();
      double stopping = mine != 0 ? 1.0 : 0.0;
      double busy = batch ? 1.0 : 0.0;
      if (distributed) {
        const auto votes = dist->all_reduce_sum({stopping, busy});
        stopping = votes[0];
        busy = votes[1];
      }
      if (stopping > 0) throw InterruptedError(mine != 0 ? mine : SIGTERM);
      if (busy == 0) break;
    }
    if (!batch) {
      if (stop && distributed) continue;  // the busy ranks still vote
      break;
    }
    auto images = input.images(*batch);
    auto labels = input.labels(*batch);
    auto logits = forward(images);
    auto loss = torch::nn::functional::cross_entropy(logits, labels);
    add_batch(sums, logits, labels, loss);
  }
  if (dist) all_reduce(sums, *dist);
  return metrics_of(sums);
}

}  // namespace ctmq
