#include "ctmq/io/manifest.h"

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/build_info.h"
#include "ctmq/core/errors.h"

namespace ctmq {

StageRecord* Manifest::find(const std::string& id) {
  for (auto& record : stages) {
    if (record.stage.id == id) return &record;
  }
  return nullptr;
}

const StageRecord* Manifest::find(const std::string& id) const {
  return const_cast<Manifest*>(this)->find(id);
}

namespace {

const std::vector<std::pair<StageStatus, const char*>> kStatusNames = {
    {StageStatus::kPending, "pending"},
    {StageStatus::kRunning, "running"},
    {StageStatus::kDone, "done"},
    {StageStatus::kFailed, "failed"}};

StageStatus parse_status(const std::string& name, const std::string& source) {
  for (const auto& [status, text] : kStatusNames) {
    if (name == text) return status;
  }
  throw IoError(source + ": malformed manifest: unknown stage status \"" + name + "\"");
}

Phase parse_phase(const std::string& name, const std::string& source) {
  for (Phase phase : {Phase::kPretrain, Phase::kSteps, Phase::kCycle}) {
    if (phase_name(phase) == name) return phase;
  }
  throw IoError(source + ": malformed manifest: unknown phase \"" + name + "\"");
}

}  // namespace

std::string status_name(StageStatus status) {
  for (const auto& [value, text] : kStatusNames) {
    if (value == status) return text;
  }
  return "?";
}

Manifest make_manifest(const std::string& name, const std::string& spec_hash,
                       const StagePlan& plan) {
  Manifest manifest;
  manifest.name = name;
  manifest.spec_hash = spec_hash;
  manifest.ctmq_version = CTMQ_VERSION;
  for (const auto& stage : plan.stages) {
    StageRecord record;
    record.stage = stage;
    manifest.stages.push_back(record);
  }
  return manifest;
}

nlohmann::json manifest_to_json(const Manifest& manifest) {
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& record : manifest.stages) {
    nlohmann::json entry = plan_to_json(StagePlan{{record.stage}})["stages"][0];
    entry["status"] = status_name(record.status);
    entry["checkpoint"] =
        record.checkpoint.empty() ? nlohmann::json(nullptr) : nlohmann::json(record.checkpoint);
    entry["epochs_done"] = record.epochs_done;
    entry["final"] = to_json(record.final_metrics);
    entry["best"] = to_json(record.best_metrics);
    entry["test"] = to_json(record.test_metrics);
    entry["history"] = history_to_json(record.history);
    entry["wall_seconds"] = record.wall_seconds;
    entry["lineage"] = {{"spec_hash", record.spec_hash},
                        {"numerics", record.numerics},
                        {"init_sha256", record.init_sha256},
                        {"teacher_sha256", record.teacher_sha256},
                        {"checkpoint_sha256", record.checkpoint_sha256}};
    stages.push_back(entry);
  }
  return {{"name", manifest.name},
          {"spec_hash", manifest.spec_hash},
          {"ctmq_version", manifest.ctmq_version},
          {"build", build_info_json()},  // the binary that last wrote the manifest
          {"numerics",
           manifest.numerics.empty() ? nlohmann::json(nullptr) : nlohmann::json(manifest.numerics)},
          {"hardware", manifest.hardware},  // the machine that last wrote it
          {"stages", stages}};
}

Manifest manifest_from_json(const nlohmann::json& doc, const std::string& source) {
  try {
    Manifest manifest;
    manifest.name = doc.at("name").get<std::string>();
    manifest.spec_hash = doc.at("spec_hash").get<std::string>();
    manifest.ctmq_version = doc.at("ctmq_version").get<std::string>();
    const nlohmann::json numerics = doc.value("numerics", nlohmann::json());
    if (!numerics.is_null()) manifest.numerics = numerics.get<std::string>();
    manifest.hardware = doc.value("hardware", nlohmann::json());
    for (const auto& entry : doc.at("stages")) {
      StageRecord record;
      Stage& s = record.stage;
      s.id = entry.at("id").get<std::string>();
      s.phase = parse_phase(entry.at("phase").get<std::string>(), source);
      s.cycle = entry.at("cycle").get<int>();
      s.w_bits = entry.at("w_bits").get<int>();
      s.a_bits = entry.at("a_bits").get<int>();
      s.epochs = entry.at("epochs").get<int64_t>();
      // The manifest keeps the rate; the rest of a stage's optimizer is the spec's.
      s.optimizer.lr = entry.at("lr").get<double>();
      s.init = init_source_from_json(entry.at("init_from"));
      s.teacher = teacher_from_json(entry.value("teacher", nlohmann::json()));
      record.status = parse_status(entry.at("status").get<std::string>(), source);
      record.checkpoint =
          entry.at("checkpoint").is_null() ? "" : entry["checkpoint"].get<std::string>();
      record.epochs_done = entry.at("epochs_done").get<int64_t>();
      record.final_metrics = stage_metrics_from_json(entry.at("final"));
      record.best_metrics = best_metrics_from_json(entry.at("best"));
      record.test_metrics = test_metrics_from_json(entry.value("test", nlohmann::json::object()));
      record.history = history_from_json(entry.at("history"));
      record.wall_seconds = entry.value("wall_seconds", 0.0);
      const nlohmann::json lineage = entry.value("lineage", nlohmann::json::object());
      record.spec_hash = lineage.value("spec_hash", "");
      record.numerics = lineage.value("numerics", "");
      record.init_sha256 = lineage.value("init_sha256", "");
      record.teacher_sha256 = lineage.value("teacher_sha256", "");
      record.checkpoint_sha256 = lineage.value("checkpoint_sha256", "");
      manifest.stages.push_back(record);
    }
    return manifest;
  } catch (const nlohmann::json::exception& e) {
    throw IoError(source + ": malformed manifest: " + e.what());
  }
}

std::string metrics_jsonl(const Manifest& manifest) {
  std::string out;
  for (const auto& record : manifest.stages) {
    for (size_t i = 0; i < record.history.size(); ++i) {
      // Wall-clock figures differ between identical runs; metrics.jsonl must not.
      nlohmann::json line = to_json(record.history[i], /*wall_clock=*/false);
      if (i + 1 == record.history.size()) line.update(to_json(record.test_metrics));
      out += line.dump() + "\n";
    }
  }
  return out;
}

void save_manifest(const RunPaths& paths, const Manifest& manifest) {
  write_file_atomic(paths.manifest(), manifest_to_json(manifest).dump(2) + "\n");
  write_file_atomic(paths.metrics(), metrics_jsonl(manifest));
}

Manifest load_manifest(const RunPaths& paths) {
  std::string text = read_file(paths.manifest());
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) throw IoError(paths.manifest() + ": not valid JSON");
  return manifest_from_json(doc, paths.manifest());
}

}  // namespace ctmq
