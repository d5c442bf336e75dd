#include "ctmq/io/run_records.h"

namespace ctmq {

using nlohmann::json;

json to_json(const MetricSums& sums) {
  return {{"loss_sum", sums.loss_sum},
          {"correct1", sums.correct1},
          {"correct5", sums.correct5},
          {"images", sums.images}};
}

MetricSums metric_sums_from_json(const json& doc) {
  MetricSums sums;
  sums.loss_sum = doc.at("loss_sum").get<double>();
  sums.correct1 = doc.at("correct1").get<int64_t>();
  sums.correct5 = doc.at("correct5").get<int64_t>();
  sums.images = doc.at("images").get<int64_t>();
  return sums;
}

json to_json(const EpochMetrics& e, bool wall_clock) {
  json doc = {{"stage", e.stage},
              {"cycle", e.cycle},
              {"w_bits", e.w_bits},
              {"a_bits", e.a_bits},
              {"epoch", e.epoch},
              {"cumulative_epoch", e.cumulative_epoch},
              {"lr", e.lr},
              {"train_loss", e.train_loss},
              {"train_top1", e.train_top1},
              {"val_loss", e.val_loss},
              {"val_top1", e.val_top1},
              {"val_top5", e.val_top5}};
  if (wall_clock) {
    doc["images_per_second"] = e.images_per_second;
    doc["seconds"] = e.seconds;
  }
  return doc;
}

EpochMetrics epoch_metrics_from_json(const json& doc) {
  EpochMetrics e;
  e.stage = doc.at("stage").get<std::string>();
  e.cycle = doc.at("cycle").get<int>();
  e.w_bits = doc.at("w_bits").get<int>();
  e.a_bits = doc.at("a_bits").get<int>();
  e.epoch = doc.at("epoch").get<int64_t>();
  e.cumulative_epoch = doc.at("cumulative_epoch").get<int64_t>();
  e.lr = doc.at("lr").get<double>();
  e.train_loss = doc.at("train_loss").get<double>();
  e.train_top1 = doc.at("train_top1").get<double>();
  e.val_loss = doc.at("val_loss").get<double>();
  e.val_top1 = doc.at("val_top1").get<double>();
  e.val_top5 = doc.at("val_top5").get<double>();
  e.images_per_second = doc.value("images_per_second", 0.0);
  e.seconds = doc.value("seconds", 0.0);
  return e;
}

json to_json(const std::optional<StageMetrics>& metrics) {
  if (!metrics) return json::object();
  json doc = {{"val_loss", metrics->val_loss},
              {"val_top1", metrics->val_top1},
              {"val_top5", metrics->val_top5},
              {"epoch", metrics->epoch}};
  if (metrics->train_loss) doc["train_loss"] = *metrics->train_loss;
  if (metrics->train_top1) doc["train_top1"] = *metrics->train_top1;
  return doc;
}

std::optional<StageMetrics> stage_metrics_from_json(const json& doc) {
  if (doc.empty()) return std::nullopt;
  StageMetrics m;
  m.val_loss = doc.at("val_loss").get<double>();
  m.val_top1 = doc.at("val_top1").get<double>();
  m.val_top5 = doc.at("val_top5").get<double>();
  m.epoch = doc.at("epoch").get<int64_t>();
  if (doc.contains("train_loss")) m.train_loss = doc["train_loss"].get<double>();
  if (doc.contains("train_top1")) m.train_top1 = doc["train_top1"].get<double>();
  return m;
}

json to_json(const std::optional<TestMetrics>& test) {
  if (!test) return json::object();
  return {{"test_loss", test->loss}, {"test_top1", test->top1}, {"test_top5", test->top5}};
}

std::optional<TestMetrics> test_metrics_from_json(const json& doc) {
  if (doc.empty()) return std::nullopt;
  return TestMetrics{doc.at("test_loss").get<double>(), doc.at("test_top1").get<double>(),
                     doc.at("test_top5").get<double>()};
}

json to_json(const std::optional<BestMetrics>& best) {
  if (!best) return json::object();
  return {{"val_top1", best->val_top1}, {"val_top5", best->val_top5}, {"epoch", best->epoch}};
}

std::optional<BestMetrics> best_metrics_from_json(const json& doc) {
  if (doc.empty()) return std::nullopt;
  return BestMetrics{doc.at("val_top1").get<double>(), doc.at("val_top5").get<double>(),
                     doc.at("epoch").get<int64_t>()};
}

json history_to_json(const std::vector<EpochMetrics>& history) {
  json doc = json::array();
  for (const auto& epoch : history) doc.push_back(to_json(epoch));
  return doc;
}

std::vector<EpochMetrics> history_from_json(const json& doc) {
  std::vector<EpochMetrics> history;
  for (const auto& entry : doc) history.push_back(epoch_metrics_from_json(entry));
  return history;
}

json to_json(const StageProgress& p) {
  json doc = {{"epoch", p.epoch},
              {"next_step", p.next_step},
              {"train_sums", to_json(p.train_sums)},
              {"history", history_to_json(p.history)},
              {"best", to_json(p.best)}};
  if (p.loss_scale) {
    doc["loss_scale"] = {{"scale", p.loss_scale->scale}, {"good_steps", p.loss_scale->good_steps}};
  }
  if (!p.device_type.empty()) doc["device"] = p.device_type;
  if (!p.spec_hash.empty()) {
    doc["lineage"] = {{"spec_hash", p.spec_hash},
                      {"numerics", p.numerics},
                      {"init_sha256", p.init_sha256},
                      {"teacher_sha256", p.teacher_sha256},
                      {"batches_per_epoch", p.batches_per_epoch},
                      {"train_images", p.train_images}};
  }
  return doc;
}

StageProgress stage_progress_from_json(const json& doc) {
  StageProgress p;
  p.epoch = doc.at("epoch").get<int64_t>();
  p.next_step = doc.at("next_step").get<int64_t>();
  p.train_sums = metric_sums_from_json(doc.at("train_sums"));
  p.history = history_from_json(doc.at("history"));
  p.best = best_metrics_from_json(doc.at("best"));
  if (doc.contains("loss_scale")) {
    const auto& saved = doc["loss_scale"];
    p.loss_scale =
        LossScaleState{saved.at("scale").get<double>(), saved.at("good_steps").get<int>()};
  }
  if (doc.contains("device")) p.device_type = doc["device"].get<std::string>();
  if (doc.contains("lineage")) {
    const json& lineage = doc["lineage"];
    p.spec_hash = lineage.at("spec_hash").get<std::string>();
    p.numerics = lineage.value("numerics", "");
    p.init_sha256 = lineage.at("init_sha256").get<std::string>();
    p.teacher_sha256 = lineage.at("teacher_sha256").get<std::string>();
    p.batches_per_epoch = lineage.at("batches_per_epoch").get<int64_t>();
    p.train_images = lineage.at("train_images").get<int64_t>();
  }
  return p;
}

}  // namespace ctmq
