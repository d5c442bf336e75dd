#include "ctmq/train/run_manifest.h"

#include <algorithm>
#include <filesystem>

#include "ctmq/core/errors.h"
#include "ctmq/io/lineage.h"
#include "ctmq/platform/numerics.h"
#include "ctmq/spec/spec_parser.h"

namespace ctmq {
namespace {

namespace fs = std::filesystem;

bool same_definition(const Stage& a, const Stage& b) {
  return a.w_bits == b.w_bits && a.a_bits == b.a_bits && a.epochs == b.epochs && a.lr() == b.lr() &&
         a.init == b.init && a.teacher == b.teacher;
}

bool trained_anything(const Manifest& manifest) {
  return std::any_of(manifest.stages.begin(), manifest.stages.end(), [](const StageRecord& r) {
    return r.status != StageStatus::kPending || r.epochs_done > 0;
  });
}

void check_cycle_option(const ExperimentSpec& spec, const TrainOptions& options) {
  if (options.phases != PhaseFilter::kCycle) return;
  const int64_t count = spec.cycles.count;
  if (count == 0) {
    throw SpecError("cycle: the spec has no cycles (/cycles/count is 0)");
  }
  if (options.cycle > count) {
    throw SpecError("--cycle " + std::to_string(options.cycle) + ": the plan has cycles 1.." +
                    std::to_string(count) + " (/cycles/count); --cycle 0 runs them all");
  }
}

/// The command that trains `stage`, for error messages.
std::string command_for(const Stage& stage) {
  switch (stage.phase) {
    case Phase::kPretrain:
      return "ctmq pretrain";
    case Phase::kSteps:
      return "ctmq steps";
    case Phase::kCycle:
      return "ctmq cycle --cycle " + std::to_string(stage.cycle);
  }
  return "ctmq train";
}

/// Throws unless `source`, which `stage` starts from or learns from, is there when it trains.
void require_source(const Stage& stage, const InitSource& source, const char* role,
                    const Manifest& manifest, const RunPaths& paths,
                    const std::map<std::string, std::string>& stale,
                    const std::map<std::string, std::string>& trained_first) {
  if (source.kind == InitSource::Kind::kCheckpoint && !fs::exists(source.ref)) {
    throw Error("stage " + stage.id + " " + role + " " + source.ref + ", which does not exist");
  }
  if (source.kind != InitSource::Kind::kStage || trained_first.count(source.ref)) return;
  const StageRecord* parent = manifest.find(source.ref);
  const auto why_stale = stale.find(source.ref);
  std::string problem;
  if (why_stale != stale.end()) {
    problem = "is stale (" + why_stale->second + ")";
  } else if (parent == nullptr || parent->status != StageStatus::kDone ||
             !fs::exists(paths.checkpoint(source.ref))) {
    problem = "is not trained (" + paths.checkpoint(source.ref) + " does not exist)";
  }
  if (problem.empty()) return;
  const std::string retrain = parent ? command_for(parent->stage) : std::string("ctmq train");
  throw Error("stage " + stage.id + " " + role + " " + source.ref + ", which " + problem +
              ": train it first (" + retrain + ", or ctmq train for the whole plan), or give " +
              "--from a checkpoint to start from");
}

}  // namespace

bool selected(const Stage& stage, const TrainOptions& options) {
  switch (options.phases) {
    case PhaseFilter::kAll:
      return true;
    case PhaseFilter::kPretrain:
      return stage.phase == Phase::kPretrain;
    case PhaseFilter::kSteps:
      return stage.phase == Phase::kSteps;
    case PhaseFilter::kCycle:
      return stage.phase == Phase::kCycle && (options.cycle == 0 || stage.cycle == options.cycle);
  }
  return false;
}

Manifest open_run_manifest(const RunPaths& paths, const ExperimentSpec& spec, const StagePlan& plan,
                           const TrainOptions& options, const std::string& numerics) {
  check_cycle_option(spec, options);
  const std::string hash = spec_hash(spec);
  Manifest fresh = make_manifest(spec.name, hash, plan);
  fresh.numerics = numerics;
  if (!fs::exists(paths.manifest())) {
    if (options.require_resume) {
      throw Error("--resume: " + paths.manifest() + " does not exist; nothing to resume");
    }
    return fresh;
  }
  Manifest old = load_manifest(paths);
  if (old.spec_hash != hash && !options.force) {
    throw SpecError("run directory " + paths.root + " belongs to a different spec (hash " +
                    old.spec_hash + ", this spec " + hash +
                    "); choose another output_dir or pass --force to reuse it");
  }
  // Manifests from before the mode existed name none, and resume under either.
  if (!old.numerics.empty() && old.numerics != numerics && trained_anything(old) &&
      !options.force) {
    throw SpecError(
        numerics_mismatch_message(paths.root, old.numerics, *parse_choice<NumericsMode>(numerics)));
  }
  for (StageRecord& record : fresh.stages) {
    const StageRecord* earlier = old.find(record.stage.id);
    if (earlier == nullptr ||
        (earlier->status == StageStatus::kPending && earlier->epochs_done == 0)) {
      continue;
    }
    StageRecord kept = *earlier;
    // Records written before lineage was kept trained under the manifest's spec.
    if (kept.spec_hash.empty()) kept.spec_hash = old.spec_hash;
    if (kept.numerics.empty()) kept.numerics = old.numerics;
    if (!selected(record.stage, options)) {
      record = kept;  // what it did, as it did it: this command does not touch it
    } else if (same_definition(kept.stage, record.stage)) {
      kept.stage = record.stage;
      record = kept;
    }
  }
  return fresh;
}

std::map<std::string, std::string> stages_to_train(
    const Manifest& manifest, const RunPaths& paths, const TrainOptions& options,
    const std::map<std::string, std::string>& stale) {
  std::map<std::string, std::string> train;
  auto trained_now = [&](const std::optional<InitSource>& source) {
    return source && source->kind == InitSource::Kind::kStage && train.count(source->ref) > 0;
  };
  for (const StageRecord& record : manifest.stages) {
    const Stage& stage = record.stage;
    if (!selected(stage, options)) continue;
    const std::optional<InitSource> teacher =
        stage.teacher ? std::optional<InitSource>(stage.teacher->source) : std::nullopt;
    std::string why;
    if (trained_now(stage.init)) {
      why = "its start " + stage.init.ref + " trains first";
    } else if (trained_now(teacher)) {
      why = "its teacher " + teacher->ref + " trains first";
    } else if (stale.count(stage.id)) {
      why = "stale: " + stale.at(stage.id);
    } else if (record.status == StageStatus::kDone && !fs::exists(paths.checkpoint(stage.id))) {
      why = "its checkpoint " + paths.checkpoint(stage.id) + " is missing";
    } else if (record.status != StageStatus::kDone) {
      why = record.epochs_done > 0 || record.status != StageStatus::kPending ? "unfinished"
                                                                             : "not trained yet";
    } else {
      continue;  // done and current
    }
    require_source(stage, stage.init, "starts from", manifest, paths, stale, train);
    if (teacher) require_source(stage, *teacher, "learns from", manifest, paths, stale, train);
    train.emplace(stage.id, why);
  }
  return train;
}

}  // namespace ctmq
