#include "ctmq/train/resume.h"

#include <spdlog/spdlog.h>

#include "ctmq/core/errors.h"
#include "ctmq/io/resume_state.h"

namespace ctmq {

void resume_if_saved(StageRun& run) {
  const std::string path = run.env.paths.resume_state(run.stage().id);
  auto saved = load_resume_state(path, run.optimizer, run.env.network);
  if (!saved) return;
  StageProgress progress;
  try {
    progress = stage_progress_from_json(saved->progress);
  } catch (const nlohmann::json::exception& e) {
    throw IoError(path + ": corrupt resume state (delete it to restart the stage): " + e.what());
  }
  check_resume_device(progress, run.env.device, path);
  QuantNetworkImpl& network = run.env.network;
  load_module_state(network, saved->model, path);
  network.set_bits(run.stage().w_bits, run.stage().a_bits);
  run.epoch = progress.epoch;
  run.step = progress.next_step;
  if (run.writer()) run.train_sums = progress.train_sums;
  run.record.history = progress.history;
  run.record.best_metrics = progress.best;
  run.record.epochs_done = progress.epoch;
  if (run.loss_scaler.enabled() && progress.loss_scale) {
    run.loss_scaler.restore(progress.loss_scale->scale, progress.loss_scale->good_steps);
  }
  spdlog::info("{}: resuming at epoch {}, step {}", run.stage().id, run.epoch + 1, run.step);
}

void check_resume_device(const StageProgress& progress, const torch::Device& device,
                         const std::string& path) {
  const std::string here = c10::DeviceTypeName(device.type(), /*lower_case=*/true);
  if (progress.device_type.empty() || progress.device_type == here) return;
  throw Error(path + ": this resume state was written by a run on " + progress.device_type +
              " and cannot continue on " + here + ": resume with --device " + progress.device_type +
              ", or delete it to restart the stage");
}

void save_progress(StageRun& run, int64_t epoch, int64_t next_step, const MetricSums& sums) {
  StageProgress progress{epoch,
                         next_step,
                         sums,
                         run.record.history,
                         run.record.best_metrics,
                         {},
                         c10::DeviceTypeName(run.env.device.type(), /*lower_case=*/true)};
  if (run.loss_scaler.enabled()) {
    progress.loss_scale =
        LossScaleState{run.loss_scaler.current_scale(), run.loss_scaler.good_steps()};
  }
  ResumeState state{module_state(run.env.network), to_json(progress)};
  save_resume_state(run.env.paths.resume_state(run.stage().id), state, run.optimizer,
                    run.env.network);
  run.env.save_manifest();
}

}  // namespace ctmq
