#pragma once
// The observers every training run installs: the run's files, progress on screen and in the
// log, and a graceful stop on SIGINT/SIGTERM. Tests add their own (a stop at an exact step).

#include <memory>
#include <optional>

#include "ctmq/train/progress.h"
#include "ctmq/train/stage_run.h"

namespace ctmq {

/// Rank 0's files: the manifest when a stage starts, the resume state and manifest at every
/// epoch end and on a stop, the checkpoint when a stage ends (then its resume state goes).
/// On a stop it sums the epoch's metrics over ranks first, so it must run on every rank.
class RunFilesWriter : public TrainingObserver {
 public:
  void on_stage_start(StageRun& run) override;
  void on_interrupt(StageRun& run) override;
  void on_epoch_end(StageRun& run, const EpochMetrics& metrics) override;
  void on_stage_end(StageRun& run) override;
};

/// A bar on a terminal (plain lines every train.log_interval steps in a log) and a summary line
/// per stage start, epoch and stop.
class ProgressDisplay : public TrainingObserver {
 public:
  void on_stage_start(StageRun& run) override;
  void on_epoch_start(StageRun& run) override;
  void on_step_end(StageRun& run) override;
  void on_interrupt(StageRun& run) override;
  void on_epoch_end(StageRun& run, const EpochMetrics& metrics) override;

 private:
  std::optional<ProgressReporter> bar_;
};

/// Stops every rank at the same step once any rank received SIGINT or SIGTERM (a collective:
/// it must run on every rank, after each step).
class StopOnSignal : public TrainingObserver {
 public:
  void on_step_end(StageRun& run) override;
};

/// The observers of a training run, in order: `first` (tests' hooks), files, progress, stop.
Observers standard_observers(const Observers& first = {});

}  // namespace ctmq
