#pragma once
// manifest.json: the plan with every stage's status, checkpoint and metrics. metrics.jsonl
// (one line per epoch) is derived from it, so the two never disagree.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctmq/io/run_records.h"
#include "ctmq/plan/stage_plan.h"

namespace ctmq {

/// Paths inside a run directory.
struct RunPaths {
  std::string root;
  std::string manifest() const { return root + "/manifest.json"; }
  std::string metrics() const { return root + "/metrics.jsonl"; }
  std::string spec() const { return root + "/spec.json"; }
  std::string log() const { return root + "/train.log"; }
  std::string checkpoint(const std::string& stage) const {
    return root + "/checkpoints/" + stage + ".pt";
  }
  std::string resume_state(const std::string& stage) const {
    return root + "/resume/" + stage + ".pt";
  }
};

enum class StageStatus { kPending, kRunning, kDone, kFailed };
/// "pending", "running", "done", "failed".
std::string status_name(StageStatus status);

/// Stage entry of the manifest. `history` holds one entry per finished epoch.
struct StageRecord {
  Stage stage;
  StageStatus status = StageStatus::kPending;
  std::string checkpoint;  ///< relative to the run directory, once written
  int64_t epochs_done = 0;
  std::optional<StageMetrics> final_metrics;
  std::optional<BestMetrics> best_metrics;
  std::optional<TestMetrics> test_metrics;  ///< data.val_split: the final weights on test
  std::vector<EpochMetrics> history;
  double wall_seconds = 0.0;
  /// Lineage, set when the stage starts training (empty in manifests written before it was
  /// recorded): the spec hash it trains under, and the SHA-256 of the checkpoints it started
  /// from and learned from ("" for random weights and no teacher).
  std::string spec_hash;
  std::string numerics;  ///< the numerics mode it trains in
  std::string init_sha256;
  std::string teacher_sha256;
  std::string checkpoint_sha256;  ///< of its own checkpoint, once written
};

struct Manifest {
  std::string name;
  std::string spec_hash;
  std::string ctmq_version;
  /// The numerics mode the run computes in ("reproducible", "native"); empty in manifests
  /// written before the mode existed.
  std::string numerics;
  nlohmann::json hardware;  ///< provenance_json() of the process that last wrote it
  std::vector<StageRecord> stages;

  StageRecord* find(const std::string& id);
  const StageRecord* find(const std::string& id) const;
};

Manifest make_manifest(const std::string& name, const std::string& spec_hash,
                       const StagePlan& plan);
nlohmann::json manifest_to_json(const Manifest& manifest);
/// Throws IoError naming `source` on a malformed manifest.
Manifest manifest_from_json(const nlohmann::json& doc, const std::string& source);

/// Writes manifest.json and metrics.jsonl atomically.
void save_manifest(const RunPaths& paths, const Manifest& manifest);
Manifest load_manifest(const RunPaths& paths);

/// The lines of metrics.jsonl: every history entry of every stage, in plan order, without
/// the wall-clock fields (so two identical runs write identical files). A stage's last line
/// also carries its test metrics, where it has them.
std::string metrics_jsonl(const Manifest& manifest);

}  // namespace ctmq
