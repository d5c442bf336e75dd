#pragma once
// A stage's resume state: where it stands, saved at every epoch end and on a graceful stop,
// and loaded when the stage starts again.

#include "ctmq/train/stage_run.h"

namespace ctmq {

/// Continues from the stage's resume state when one was saved: weights, optimizer, RNG, the
/// position in the epoch, the epoch's sums (rank 0), the history so far and the loss scale.
void resume_if_saved(StageRun& run);

/// Refuses to resume on another kind of device than the state was written on: the optimizer's
/// buffers would stay where they were saved (LibTorch moves none), and its first step would fail
/// with a shape or device error from deep inside SGD. Throws Error naming `path` and the flag.
/// States written before the device was recorded pass.
void check_resume_device(const StageProgress& progress, const torch::Device& device,
                         const std::string& path);

/// Writes the resume state (rank 0 only): weights, optimizer, position `epoch` / `next_step`
/// and the epoch's `sums`, then the manifest.
void save_progress(StageRun& run, int64_t epoch, int64_t next_step, const MetricSums& sums);

}  // namespace ctmq
