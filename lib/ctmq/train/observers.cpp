#include "ctmq/train/observers.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "ctmq/core/sha256.h"
#include "ctmq/dist/process_group.h"
#include "ctmq/io/checkpoint.h"
#include "ctmq/train/evaluator.h"
#include "ctmq/train/resume.h"
#include "ctmq/train/stop_signal.h"

namespace ctmq {
namespace {

double seconds_in_epoch(const StageRun& run) {
  return std::chrono::duration<double>(StageRun::Clock::now() - run.epoch_start).count();
}

}  // namespace

void RunFilesWriter::on_stage_start(StageRun& run) {
  run.record.status = StageStatus::kRunning;
  if (run.writer()) run.env.save_manifest();
}

void RunFilesWriter::on_interrupt(StageRun& run) {
  // The resume state keeps the epoch's sums of every rank, reloaded by rank 0 alone.
  MetricSums all_ranks = run.train_sums;
  all_reduce(all_ranks, run.env.dist);
  if (run.writer()) save_progress(run, run.epoch, run.step, all_ranks);
}

void RunFilesWriter::on_epoch_end(StageRun& run, const EpochMetrics& metrics) {
  if (run.writer()) save_progress(run, metrics.epoch, 0, MetricSums{});
}

void RunFilesWriter::on_stage_end(StageRun& run) {
  StageRecord& record = run.record;
  if (!run.writer()) {
    record.status = StageStatus::kDone;
    return;
  }
  const std::string& id = record.stage.id;
  record.checkpoint = "checkpoints/" + id + ".pt";
  save_checkpoint(
      run.env.paths.checkpoint(id),
      Checkpoint{module_state(run.env.network), stage_checkpoint_meta(run.env.run_meta, record)});
  // The digest its descendants record as their start: a retrained stage makes them stale.
  record.checkpoint_sha256 = file_sha256(run.env.paths.checkpoint(id));
  record.status = StageStatus::kDone;
  run.env.save_manifest();
  std::error_code ignored;
  std::filesystem::remove(run.env.paths.resume_state(id), ignored);
}

void ProgressDisplay::on_stage_start(StageRun& run) {
  const Stage& stage = run.stage();
  spdlog::info("stage {} ({}): {} epochs at lr {}, {} steps per epoch, global batch {}", stage.id,
               bits_label(stage.w_bits, stage.a_bits), stage.epochs, stage.lr(),
               run.steps_per_epoch, run.env.batch_size * run.env.dist.world_size());
}

void ProgressDisplay::on_epoch_start(StageRun& run) {
  bar_.emplace(run.stage().id, run.epoch, run.stage().epochs, run.env.log_interval, run.writer());
}

void ProgressDisplay::on_step_end(StageRun& run) {
  const EvalMetrics running = metrics_of(run.train_sums);
  bar_->update({run.step, run.steps_per_epoch, running.loss, running.top1,
                run.images_this_run / std::max(1e-9, seconds_in_epoch(run)), run.lr});
}

void ProgressDisplay::on_interrupt(StageRun& run) {
  bar_->finish();
  spdlog::warn("{}: stopping on signal {} at epoch {}, step {}; state saved", run.stage().id,
               run.stop_signal, run.epoch + 1, run.step);
}

void ProgressDisplay::on_epoch_end(StageRun& run, const EpochMetrics& m) {
  bar_->finish();
  spdlog::info(
      "{} epoch {}/{}: train loss {:.4f} top1 {:.2f}% | val loss {:.4f} top1 {:.2f}% "
      "top5 {:.2f}% | {:.0f} img/s, lr {:.3g}, {:.1f}s",
      m.stage, m.epoch, run.stage().epochs, m.train_loss, m.train_top1, m.val_loss, m.val_top1,
      m.val_top5, m.images_per_second, m.lr, m.seconds);
}

void StopOnSignal::on_step_end(StageRun& run) {
  // Every rank learns whether any rank was asked to stop, so that all stop at the same step.
  double mine = stop_requested() != 0 ? 1.0 : 0.0;
  if (run.env.dist.is_distributed()) mine = run.env.dist.all_reduce_sum({mine})[0];
  if (mine > 0) run.stop_signal = stop_requested() != 0 ? stop_requested() : 15;
}

Observers standard_observers(const Observers& first) {
  Observers observers = first;
  observers.push_back(std::make_shared<RunFilesWriter>());
  observers.push_back(std::make_shared<ProgressDisplay>());
  observers.push_back(std::make_shared<StopOnSignal>());
  return observers;
}

}  // namespace ctmq
