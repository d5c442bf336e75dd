#pragma once
// `ctmq train` / `pretrain` / `steps` / `cycle`: a run directory, its plan, and the stages.
// Torch-free on purpose: apps/ includes it.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ctmq/commands/runtime_options.h"
#include "ctmq/spec/spec.h"

namespace ctmq {

class TrainingObserver;

/// Which stages of the plan a training command runs.
enum class PhaseFilter { kAll, kPretrain, kSteps, kCycle };

struct TrainOptions {
  RuntimeOptions runtime;
  PhaseFilter phases = PhaseFilter::kAll;
  std::string from_checkpoint;  ///< steps/cycle: initialise the phase's first stage from this
  int cycle = 0;                ///< cycle: run only this cycle (0 = every cycle)
  bool require_resume = false;  ///< --resume: the run directory must already exist
  bool force = false;           ///< accept a run directory made by a different spec
  DistBackend dist_backend = DistBackend::kAuto;
  int64_t dist_timeout_seconds = 300;  ///< a collective waiting longer than this fails the run
  std::string spec_source;             ///< where the spec came from, for the log
  /// Observers that see every event before the standard ones (tests stop a run at an exact
  /// step this way).
  std::vector<std::shared_ptr<TrainingObserver>> observers;
};

/// Runs the selected stages of the spec's plan, resuming whatever the run directory already
/// holds. Throws on failure; InterruptedError after a graceful stop on SIGINT/SIGTERM.
void train_experiment(const ExperimentSpec& spec, const TrainOptions& options);

}  // namespace ctmq
