#include "ctmq/train/evaluator.h"

#include "ctmq/dist/process_group.h"

namespace ctmq {

void MetricSums::add(const torch::Tensor& logits, const torch::Tensor& labels,
                     const torch::Tensor& loss) {
  const int64_t n = labels.size(0);
  const int64_t k = std::min<int64_t>(5, logits.size(1));
  auto top = std::get<1>(logits.topk(k, 1));
  auto hits = top.eq(labels.view({-1, 1}));
  correct1 += hits.select(1, 0).sum().item<int64_t>();
  correct5 += hits.any(1).sum().item<int64_t>();
  loss_sum += loss.item<double>() * static_cast<double>(n);
  images += n;
}

EvalMetrics MetricSums::metrics() const {
  EvalMetrics m;
  m.images = images;
  if (images > 0) {
    m.loss = loss_sum / images;
    m.top1 = 100.0 * correct1 / images;
    m.top5 = 100.0 * correct5 / images;
  }
  return m;
}

void MetricSums::all_reduce(DistContext& dist) {
  if (!dist.is_distributed()) return;
  auto total = dist.all_reduce_sum({loss_sum, static_cast<double>(correct1),
                                    static_cast<double>(correct5), static_cast<double>(images)});
  loss_sum = total[0];
  correct1 = static_cast<int64_t>(total[1]);
  correct5 = static_cast<int64_t>(total[2]);
  images = static_cast<int64_t>(total[3]);
}

nlohmann::json MetricSums::to_json() const {
  return {
      {"loss_sum", loss_sum}, {"correct1", correct1}, {"correct5", correct5}, {"images", images}};
}

MetricSums MetricSums::from_json(const nlohmann::json& doc) {
  MetricSums sums;
  sums.loss_sum = doc.at("loss_sum").get<double>();
  sums.correct1 = doc.at("correct1").get<int64_t>();
  sums.correct5 = doc.at("correct5").get<int64_t>();
  sums.images = doc.at("images").get<int64_t>();
  return sums;
}

EvalMetrics evaluate_split(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                           DataLoader& loader, const torch::Device& device, DistContext* dist) {
  torch::NoGradGuard no_grad;
  MetricSums sums;
  DeviceInput input(device);
  loader.start_epoch(0);
  while (auto batch = loader.next()) {
    auto images = input.images(*batch);
    auto labels = input.labels(*batch);
    auto logits = forward(images);
    auto loss = torch::nn::functional::cross_entropy(logits, labels);
    sums.add(logits, labels, loss);
  }
  if (dist) sums.all_reduce(*dist);
  return sums.metrics();
}

}  // namespace ctmq
