#include "ctmq/train/stage_trainer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>

#include "ctmq/core/errors.h"
#include "ctmq/dist/gradient_buckets.h"
#include "ctmq/dist/process_group.h"
#include "ctmq/io/checkpoint.h"
#include "ctmq/io/resume_state.h"
#include "ctmq/train/evaluator.h"
#include "ctmq/train/lr_schedule.h"
#include "ctmq/train/optimizer_factory.h"
#include "ctmq/train/progress.h"
#include "ctmq/train/stop_signal.h"

namespace ctmq {
namespace {

using Clock = std::chrono::steady_clock;

/// Every stage shuffles differently, every epoch too; the loader mixes this with the seed.
int64_t loader_epoch(int64_t stage_index, int64_t epoch) {
  return stage_index * 100000 + epoch;
}

/// BatchNorm running statistics differ between ranks (each saw its own shard); evaluation and
/// checkpoints use their average, as PyTorch users do before saving a DDP model.
void average_batch_norm_statistics(QuantNetworkImpl& network, DistContext& dist) {
  if (!dist.is_distributed()) return;
  std::vector<torch::Tensor> stats;
  for (const auto& item : network.named_buffers(true)) {
    const auto& name = item.key();
    if (name.size() >= 12 && (name.rfind("running_mean") == name.size() - 12 ||
                              name.rfind("running_var") == name.size() - 11)) {
      stats.push_back(item.value());
    }
  }
  dist.all_reduce_mean_(stats);
}

/// True on every rank when any rank was asked to stop, so that all stop at the same step.
bool any_rank_stopping(DistContext& dist) {
  double mine = stop_requested() != 0 ? 1.0 : 0.0;
  if (!dist.is_distributed()) return mine > 0;
  return dist.all_reduce_sum({mine})[0] > 0;
}

}  // namespace

nlohmann::json stage_checkpoint_meta(const StageEnvironment& env, const StageRecord& record) {
  nlohmann::json meta = env.checkpoint_meta;
  const Stage& s = record.stage;
  meta["stage"] = s.id;
  meta["phase"] = phase_name(s.phase);
  meta["cycle"] = s.cycle;
  meta["w_bits"] = s.w_bits;
  meta["a_bits"] = s.a_bits;
  meta["epochs"] = record.epochs_done;
  meta["final"] = record.final_metrics;
  meta["best"] = record.best_metrics;
  return meta;
}

void train_stage(StageEnvironment& env, StageRecord& record, int64_t stage_index,
                 int64_t epoch_offset) {
  const Stage& stage = record.stage;
  const ExperimentSpec& spec = env.spec;
  QuantNetworkImpl& network = env.network;
  DataLoader& train_loader = *env.data.train;
  const bool writer = env.dist.rank() == 0;

  network.set_bits(stage.w_bits, stage.a_bits);
  auto optimizer = make_optimizer(spec.optimizer, network, stage.lr);

  int64_t first_epoch = 0, first_step = 0;
  MetricSums train_sums;
  auto resume = load_resume_state(env.paths.resume_state(stage.id), *optimizer);
  if (resume) {
    load_module_state(network, resume->model, env.paths.resume_state(stage.id));
    network.set_bits(stage.w_bits, stage.a_bits);
    const auto& p = resume->progress;
    first_epoch = p.at("epoch").get<int64_t>();
    first_step = p.at("next_step").get<int64_t>();
    if (writer) train_sums = MetricSums::from_json(p.at("train_sums"));
    record.history = p.at("history");
    record.best_metrics = p.at("best");
    record.epochs_done = first_epoch;
    spdlog::info("{}: resuming at epoch {}, step {}", stage.id, first_epoch + 1, first_step);
  }
  env.dist.broadcast_module(network);
  const std::vector<torch::Tensor> parameters = network.parameters(true);
  GradientBucketer bucketer(parameters);
  LossScaler loss_scaler(env.amp.scale_loss);
  if (resume && loss_scaler.enabled() && resume->progress.contains("loss_scale")) {
    const auto& saved = resume->progress.at("loss_scale");
    loss_scaler.restore(saved.at("scale").get<double>(), saved.at("good_steps").get<int>());
  }
  DeviceInput input(env.device);

  record.status = "running";
  if (writer) env.save_manifest();
  // Writes where the stage stands (rank 0 only): weights, optimizer, position and sums.
  auto save_progress = [&](int64_t epoch, int64_t next_step, const MetricSums& sums) {
    ResumeState state{module_state(network),
                      {{"epoch", epoch},
                       {"next_step", next_step},
                       {"train_sums", sums.to_json()},
                       {"history", record.history},
                       {"best", record.best_metrics}}};
    if (loss_scaler.enabled()) {
      state.progress["loss_scale"] = {{"scale", loss_scaler.current_scale()},
                                      {"good_steps", loss_scaler.good_steps()}};
    }
    save_resume_state(env.paths.resume_state(stage.id), state, *optimizer);
    env.save_manifest();
  };
  auto score_val = [&] {
    network.eval();
    return evaluate_split([&](const torch::Tensor& x) { return network.forward(x); }, *env.data.val,
                          env.device, &env.dist);
  };
  const int64_t steps_per_epoch = train_loader.batches_per_epoch();
  const auto stage_start = Clock::now();
  spdlog::info("stage {} ({}): {} epochs at lr {}, {} steps per epoch, global batch {}", stage.id,
               bits_label(stage.w_bits, stage.a_bits), stage.epochs, stage.lr, steps_per_epoch,
               spec.data.batch_size * env.dist.world_size());

  for (int64_t epoch = first_epoch; epoch < stage.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    network.train();
    train_loader.start_epoch(loader_epoch(stage_index, epoch), first_step);
    ProgressReporter progress(stage.id, epoch, stage.epochs, spec.train.log_interval, writer);
    int64_t step = first_step;
    int64_t images_this_run = 0;
    // The rate of the last step taken: what the epoch's record shows even when a resumed
    // epoch has no step left to take.
    double lr = learning_rate_at(spec.optimizer, stage.lr, stage.epochs, steps_per_epoch,
                                 epoch * steps_per_epoch + std::max<int64_t>(0, step - 1));
    while (auto batch = train_loader.next()) {
      lr = learning_rate_at(spec.optimizer, stage.lr, stage.epochs, steps_per_epoch,
                            epoch * steps_per_epoch + step);
      set_learning_rate(*optimizer, lr);
      auto images = input.images(*batch);
      auto labels = input.labels(*batch);
      if (env.channels_last) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
      torch::Tensor logits, loss;
      {
        AutocastScope autocast(env.amp);
        logits = network.forward(images);
        loss = torch::nn::functional::cross_entropy(
            logits, labels,
            torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(
                spec.optimizer.label_smoothing));
      }
      const double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value)) {
        throw Error("stage " + stage.id + ": loss became " + std::to_string(loss_value) +
                    " at epoch " + std::to_string(epoch + 1) + ", step " +
                    std::to_string(step + 1) +
                    "; training stopped. The last good state is kept in " +
                    env.paths.resume_state(stage.id) + " (lower the learning rate and rerun)");
      }
      optimizer->zero_grad();
      loss_scaler.scale(loss).backward();
      bucketer.all_reduce_average(env.dist);
      // Every rank holds the same averaged gradients, so all skip (or take) the same steps.
      if (loss_scaler.unscale_and_update(parameters)) optimizer->step();
      train_sums.add(logits.detach(), labels, loss.detach());
      ++step;
      images_this_run += labels.size(0);
      if (++env.steps_taken == env.stop_at_step) std::raise(SIGTERM);
      double seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
      auto running = train_sums.metrics();
      progress.update({step, steps_per_epoch, running.loss, running.top1,
                       images_this_run / std::max(1e-9, seconds), lr});
      if (any_rank_stopping(env.dist)) {
        progress.finish();
        // The resume state keeps the epoch's sums of every rank, reloaded by rank 0 alone.
        MetricSums all_ranks = train_sums;
        all_ranks.all_reduce(env.dist);
        if (writer) save_progress(epoch, step, all_ranks);
        int signal_number = stop_requested() ? stop_requested() : 15;
        spdlog::warn("{}: stopping on signal {} at epoch {}, step {}; state saved", stage.id,
                     signal_number, epoch + 1, step);
        throw InterruptedError(signal_number);
      }
    }
    progress.finish();
    first_step = 0;

    average_batch_norm_statistics(network, env.dist);
    const double train_seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    EvalMetrics val = score_val();
    train_sums.all_reduce(env.dist);
    EvalMetrics train = train_sums.metrics();
    const double seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    const double images_per_second =
        images_this_run * env.dist.world_size() / std::max(1e-9, train_seconds);
    nlohmann::json entry = {{"stage", stage.id},
                            {"cycle", stage.cycle},
                            {"w_bits", stage.w_bits},
                            {"a_bits", stage.a_bits},
                            {"epoch", epoch + 1},
                            {"cumulative_epoch", epoch_offset + epoch + 1},
                            {"lr", lr},
                            {"train_loss", train.loss},
                            {"train_top1", train.top1},
                            {"val_loss", val.loss},
                            {"val_top1", val.top1},
                            {"val_top5", val.top5},
                            {"images_per_second", images_per_second},
                            {"seconds", seconds}};
    record.history.push_back(entry);
    record.final_metrics = {{"val_loss", val.loss},     {"val_top1", val.top1},
                            {"val_top5", val.top5},     {"train_loss", train.loss},
                            {"train_top1", train.top1}, {"epoch", epoch + 1}};
    if (record.best_metrics.empty() || val.top1 > record.best_metrics["val_top1"].get<double>()) {
      record.best_metrics = {{"val_top1", val.top1}, {"val_top5", val.top5}, {"epoch", epoch + 1}};
    }
    record.epochs_done = epoch + 1;
    train_sums = MetricSums{};
    spdlog::info(
        "{} epoch {}/{}: train loss {:.4f} top1 {:.2f}% | val loss {:.4f} top1 {:.2f}% "
        "top5 {:.2f}% | {:.0f} img/s, lr {:.3g}, {:.1f}s",
        stage.id, epoch + 1, stage.epochs, train.loss, train.top1, val.loss, val.top1, val.top5,
        images_per_second, lr, seconds);
    record.wall_seconds += seconds;
    if (writer) save_progress(epoch + 1, 0, MetricSums{});
  }

  if (stage.epochs == 0 || record.final_metrics.empty()) {
    // An untrained stage still records what its weights score.
    EvalMetrics val = score_val();
    record.final_metrics = {
        {"val_loss", val.loss}, {"val_top1", val.top1}, {"val_top5", val.top5}, {"epoch", 0}};
    record.best_metrics = {{"val_top1", val.top1}, {"val_top5", val.top5}, {"epoch", 0}};
  }
  if (writer) {
    record.checkpoint = "checkpoints/" + stage.id + ".pt";
    save_checkpoint(env.paths.checkpoint(stage.id),
                    Checkpoint{module_state(network), stage_checkpoint_meta(env, record)});
    record.status = "done";
    env.save_manifest();
    std::error_code ignored;
    std::filesystem::remove(env.paths.resume_state(stage.id), ignored);
  } else {
    record.status = "done";
  }
  env.dist.barrier();
  // Every rank prints this; a distributed run is healthy when all ranks print the same value.
  double checksum = 0.0;
  for (const auto& parameter : network.parameters(true)) {
    checksum += parameter.detach().to(torch::kDouble).sum().item<double>();
  }
  spdlog::info("stage {} weights checksum {:.10e} (rank {})", stage.id, checksum, env.dist.rank());
  spdlog::info("stage {} done: val top1 {:.2f}% top5 {:.2f}% ({:.0f}s)", stage.id,
               record.final_metrics["val_top1"].get<double>(),
               record.final_metrics["val_top5"].get<double>(),
               std::chrono::duration<double>(Clock::now() - stage_start).count());
}

}  // namespace ctmq
