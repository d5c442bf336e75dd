#pragma once
// The manifest a training command works on, and which of its stages the command trains.
//
// The record stays true: a stage's record changes only when that stage trains, finishes or is
// retrained; a command that fails before training anything writes nothing (the checks here
// come first). A stage trains when this command selects it and it is not done, done under
// another definition, or stale (lineage.h) — or when a stage it descends from trains now.

#include <map>
#include <string>

#include "ctmq/io/manifest.h"
#include "ctmq/spec/spec.h"
#include "ctmq/train/experiment.h"

namespace ctmq {

/// Whether the command's phase filter (and --cycle) takes `stage`.
bool selected(const Stage& stage, const TrainOptions& options);

/// The run's manifest for this command: the plan of `spec` (with --from applied), carrying the
/// records of the earlier run in `paths`. Records of stages this command does not select stay
/// as they were; a selected stage keeps its record where its definition is unchanged. Throws
/// SpecError for a run directory of another spec without --force, another numerics mode, or a
/// --cycle beyond the plan's cycles; Error for --resume without a run.
Manifest open_run_manifest(const RunPaths& paths, const ExperimentSpec& spec, const StagePlan& plan,
                           const TrainOptions& options, const std::string& numerics);

/// The stages this command trains, with why each does: id -> "not trained yet", "resumes",
/// "stale (...)", "its start c0-w2a2 trains first", ... Throws Error, before anything is written,
/// where a stage to train starts from or learns from a stage that is neither done and current
/// nor trained earlier by this command. `stale` is stale_stages(manifest).
std::map<std::string, std::string> stages_to_train(const Manifest& manifest, const RunPaths& paths,
                                                   const TrainOptions& options,
                                                   const std::map<std::string, std::string>& stale);

}  // namespace ctmq
