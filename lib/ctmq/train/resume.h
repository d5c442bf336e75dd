#pragma once
// A stage's resume state: where it stands, saved at every epoch end and on a graceful stop,
// and loaded when the stage starts again.

#include "ctmq/train/stage_run.h"

namespace ctmq {

/// Continues from the stage's resume state when one was saved: weights, optimizer, RNG, the
/// position in the epoch, the epoch's sums (rank 0), the history so far and the loss scale.
void resume_if_saved(StageRun& run);

/// Writes the resume state (rank 0 only): weights, optimizer, position `epoch` / `next_step`
/// and the epoch's `sums`, then the manifest.
void save_progress(StageRun& run, int64_t epoch, int64_t next_step, const MetricSums& sums);

}  // namespace ctmq
