#pragma once
// Trains one stage of the plan: one network at one bit depth for its epochs, with its own
// optimizer and learning-rate schedule, reporting every step, epoch and the stage's end to
// the observers (which save, log and stop).

#include "ctmq/train/stage_run.h"

namespace ctmq {

/// Trains `record.stage` from the network's current weights (or from its resume state, if one
/// was saved), then marks the record done. `stage_index` keys the loader's shuffling;
/// `epoch_offset` is the number of epochs of the stages before it. Throws InterruptedError
/// after a graceful stop (an observer set StageRun::stop_signal).
void train_stage(StageEnvironment& env, StageRecord& record, int64_t stage_index,
                 int64_t epoch_offset, const Observers& observers);

}  // namespace ctmq
