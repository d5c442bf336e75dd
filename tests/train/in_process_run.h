#pragma once
// Training in the test's own process, so that a test can add observers to the run: here, one
// that raises SIGTERM after an exact number of steps, as a scheduler's signal would.

#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "ctmq/core/errors.h"
#include "ctmq/spec/spec_parser.h"
#include "ctmq/train/experiment.h"
#include "ctmq/train/stage_run.h"
#include "ctmq/train/stop_signal.h"

namespace ctmq::test {

/// Raises SIGTERM on this process after `steps` training steps (counted over all stages).
class StopAfterSteps : public TrainingObserver {
 public:
  explicit StopAfterSteps(int64_t steps) : steps_(steps) {}
  void on_step_end(StageRun& /*run*/) override {
    if (++taken_ == steps_) std::raise(SIGTERM);
  }

 private:
  int64_t steps_;
  int64_t taken_ = 0;
};

/// `ctmq train` with `overrides` (key=value, as --set takes them) on the embedded default spec,
/// in this process on the CPU, with `observers` first. `dist_backend` kAuto joins the process
/// group of the environment (RANK, WORLD_SIZE, ...), as --dist-backend does. Returns 0, or 128 +
/// the signal that stopped it.
inline int train_in_process(const std::vector<std::string>& overrides,
                            const std::vector<std::shared_ptr<TrainingObserver>>& observers,
                            DistBackend dist_backend = DistBackend::kNone) {
  SpecOptions spec_options;
  spec_options.overrides = overrides;
  TrainOptions options;
  options.runtime.device =
      DeviceKind::kCpu;  // a CUDA build would default to the GPU, not bit-exact
  options.dist_backend = dist_backend;
  options.dist_timeout_seconds = 60;
  options.observers = observers;
  options.spec_source = "<test>";
  try {
    train_experiment(default_spec(spec_options), options);
    return 0;
  } catch (const InterruptedError& stop) {
    clear_stop_request();
    return 128 + stop.signal_number();
  }
}

}  // namespace ctmq::test
