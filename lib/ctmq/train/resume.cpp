#include "ctmq/train/resume.h"

#include <spdlog/spdlog.h>

#include "ctmq/core/errors.h"
#include "ctmq/dist/process_group.h"
#include "ctmq/io/resume_state.h"

namespace ctmq {
namespace {

/// Whether the state in `path` was written by this stage as it trains now: under the run's spec,
/// from the same starting weights and teacher, on the same data. States written before their
/// lineage was recorded apply as they always did.
bool resume_state_applies(const StageRun& run, const std::string& path) {
  const auto document = read_resume_progress(path);
  if (!document) return false;
  StageProgress saved;
  try {
    saved = stage_progress_from_json(*document);
  } catch (const nlohmann::json::exception& e) {
    throw IoError(path + ": corrupt resume state (delete it to restart the stage): " + e.what());
  }
  if (saved.spec_hash.empty()) return true;
  const StageRecord& record = run.record;
  const int64_t images = run.env.data.train->num_samples();
  std::string other;
  if (saved.spec_hash != record.spec_hash) {
    other = "another spec (hash " + saved.spec_hash + ", the run's is " + record.spec_hash + ")";
  } else if (saved.numerics != record.numerics) {
    other = "--numerics " + saved.numerics;
  } else if (saved.init_sha256 != record.init_sha256) {
    other = "other starting weights than " + init_source_to_json(record.stage.init).dump();
  } else if (saved.teacher_sha256 != record.teacher_sha256) {
    other = "another teacher";
  } else if (saved.batches_per_epoch != run.steps_per_epoch || saved.train_images != images) {
    other = "other data (" + std::to_string(saved.train_images) + " training images in " +
            std::to_string(saved.batches_per_epoch) + " batches per epoch; now " +
            std::to_string(images) + " in " + std::to_string(run.steps_per_epoch) + ")";
  }
  if (other.empty()) return true;
  spdlog::warn(
      "{}: this resume state was written under {}; stage {} starts from its beginning "
      "(the state is replaced at its first save)",
      path, other, record.stage.id);
  return false;
}

}  // namespace

void resume_if_saved(StageRun& run) {
  const std::string path = run.env.paths.resume_state(run.stage().id);
  // Rank 0 decides from the lineage it alone computes; every rank follows it.
  torch::Tensor applies =
      torch::tensor({static_cast<int64_t>(run.writer() && resume_state_applies(run, path))},
                    torch::TensorOptions().dtype(torch::kLong).device(run.env.dist.device()));
  run.env.dist.broadcast_(applies);
  if (applies.item<int64_t>() == 0) return;
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
  StageProgress progress;
  progress.epoch = epoch;
  progress.next_step = next_step;
  progress.train_sums = sums;
  progress.history = run.record.history;
  progress.best = run.record.best_metrics;
  progress.device_type = c10::DeviceTypeName(run.env.device.type(), /*lower_case=*/true);
  progress.spec_hash = run.record.spec_hash;
  progress.numerics = run.record.numerics;
  progress.init_sha256 = run.record.init_sha256;
  progress.teacher_sha256 = run.record.teacher_sha256;
  progress.batches_per_epoch = run.steps_per_epoch;
  progress.train_images = run.env.data.train->num_samples();
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
