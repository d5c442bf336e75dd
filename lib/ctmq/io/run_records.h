#pragma once
// What a run records, as types: the metrics of an epoch and a stage, the running sums of an
// epoch, and where an interrupted stage stands. JSON exists only in their readers and writers
// (run_records_json.cpp), which keep the files of earlier versions readable.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ctmq {

/// Per-image loss and hit counts of an epoch or an evaluation; averages come from metrics().
struct MetricSums {
  double loss_sum = 0.0;  ///< sum of per-image losses
  int64_t correct1 = 0;
  int64_t correct5 = 0;
  int64_t images = 0;
};

/// One finished epoch: a line of metrics.jsonl and an entry of the manifest's history.
struct EpochMetrics {
  std::string stage;
  int cycle = 0;
  int w_bits = 32;
  int a_bits = 32;
  int64_t epoch = 0;             ///< 1-based within the stage
  int64_t cumulative_epoch = 0;  ///< 1-based over the whole plan
  double lr = 0.0;               ///< the rate of the epoch's last step
  double train_loss = 0.0;
  double train_top1 = 0.0;
  double val_loss = 0.0;
  double val_top1 = 0.0;
  double val_top5 = 0.0;
  double images_per_second = 0.0;  ///< wall-clock: kept out of metrics.jsonl
  double seconds = 0.0;            ///< wall-clock: kept out of metrics.jsonl
};

/// The metrics of a stage's last epoch (epoch 0: an untrained stage, scored as it started).
struct StageMetrics {
  double val_loss = 0.0;
  double val_top1 = 0.0;
  double val_top5 = 0.0;
  std::optional<double> train_loss;  ///< absent for an untrained stage
  std::optional<double> train_top1;
  int64_t epoch = 0;
};

/// The test split's score of a stage's final weights (data.val_split), taken once when the
/// stage ends.
struct TestMetrics {
  double loss = 0.0;
  double top1 = 0.0;
  double top5 = 0.0;
};

/// The epoch with the best validation Top-1 so far.
struct BestMetrics {
  double val_top1 = 0.0;
  double val_top5 = 0.0;
  int64_t epoch = 0;
};

/// The fp16 loss scaler's state.
struct LossScaleState {
  double scale = 0.0;
  int good_steps = 0;
};

/// Where an interrupted stage continues: `epoch` (0-based) at batch `next_step`, with the
/// epoch's partial sums (of every rank) and what the stage recorded so far.
struct StageProgress {
  int64_t epoch = 0;
  int64_t next_step = 0;
  MetricSums train_sums;
  std::vector<EpochMetrics> history;
  std::optional<BestMetrics> best;
  std::optional<LossScaleState> loss_scale;
  /// The device type the state was written on ("cpu", "cuda"); empty in states written before
  /// it was recorded. The optimizer's buffers live there.
  std::string device_type;
  /// What the state belongs to (empty in states written before it was recorded): the stage's
  /// lineage (manifest.h) and its data, as batches per epoch and training images per process.
  std::string spec_hash;
  std::string numerics;
  std::string init_sha256;
  std::string teacher_sha256;
  int64_t batches_per_epoch = 0;
  int64_t train_images = 0;
};

nlohmann::json to_json(const MetricSums& sums);
MetricSums metric_sums_from_json(const nlohmann::json& doc);

/// With `wall_clock` false, without images_per_second and seconds (metrics.jsonl).
nlohmann::json to_json(const EpochMetrics& epoch, bool wall_clock = true);
EpochMetrics epoch_metrics_from_json(const nlohmann::json& doc);

nlohmann::json to_json(const std::optional<StageMetrics>& metrics);  ///< {} when absent
std::optional<StageMetrics> stage_metrics_from_json(const nlohmann::json& doc);

nlohmann::json to_json(const std::optional<TestMetrics>& test);  ///< {} when absent
std::optional<TestMetrics> test_metrics_from_json(const nlohmann::json& doc);

nlohmann::json to_json(const std::optional<BestMetrics>& best);  ///< {} when absent
std::optional<BestMetrics> best_metrics_from_json(const nlohmann::json& doc);

nlohmann::json to_json(const StageProgress& progress);
/// Throws nlohmann::json::exception on a malformed document; callers name the file.
StageProgress stage_progress_from_json(const nlohmann::json& doc);

nlohmann::json history_to_json(const std::vector<EpochMetrics>& history);
std::vector<EpochMetrics> history_from_json(const nlohmann::json& doc);

}  // namespace ctmq
