#pragma once
// What the stage loop computes at the end of an epoch and of a stage: validation, the epoch's
// metrics in the stage's record, and the closing log lines.

#include "ctmq/train/stage_run.h"

namespace ctmq {

/// Averages BatchNorm statistics over ranks, scores the validation split, sums the epoch's
/// training metrics over ranks, and records the epoch in run.record (history, final and best
/// metrics, epochs done, wall time). Resets the epoch's sums.
EpochMetrics finish_epoch(StageRun& run);

/// A stage without a trained epoch still records what its weights score.
void score_untrained_stage(StageRun& run);

/// With a test split (data.val_split), scores the stage's final weights on it once, into
/// run.record.test_metrics. Every rank calls it.
void score_test_split(StageRun& run);

/// Every rank logs its weights' checksum (a healthy distributed run prints the same value on
/// all ranks) and the stage's final metrics.
void log_stage_done(const StageRun& run);

}  // namespace ctmq
