#pragma once

#include <cstdint>

#include "ctmq/spec/spec.h"

namespace ctmq {

/// Learning rate at optimizer step `step` (0-based) of a stage of `epochs` epochs with
/// `steps_per_epoch` steps, peak rate `base_lr`. Linear warm-up over warmup_epochs, then the
/// spec's schedule over the remaining steps; `cosine` decays per step to 0, `step` multiplies
/// by gamma at each milestone epoch, `constant` stays at the peak.
double learning_rate_at(const OptimizerSpec& optimizer, double base_lr, int64_t epochs,
                        int64_t steps_per_epoch, int64_t step);

}  // namespace ctmq
