#include "ctmq/train/stage_trainer.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>

#include "ctmq/core/errors.h"
#include "ctmq/dist/gradient_buckets.h"
#include "ctmq/dist/process_group.h"
#include "ctmq/train/distillation.h"
#include "ctmq/train/epoch_end.h"
#include "ctmq/train/evaluator.h"
#include "ctmq/train/lr_schedule.h"
#include "ctmq/train/optimizer_factory.h"
#include "ctmq/train/resume.h"

namespace ctmq {
namespace {

/// Every stage shuffles differently, every epoch too; the loader mixes this with the seed.
int64_t loader_epoch(int64_t stage_index, int64_t epoch) {
  return stage_index * 100000 + epoch;
}

double scheduled_lr(const StageRun& run, int64_t step) {
  const Stage& stage = run.stage();
  return learning_rate_at(stage.optimizer, stage.lr(), stage.epochs, run.steps_per_epoch,
                          run.epoch * run.steps_per_epoch + step);
}

/// One optimizer step on one batch: forward, loss, backward, gradient all-reduce, update.
void train_step(StageRun& run, const Batch& batch, DeviceInput& input, GradientBucketer& bucketer,
                const std::vector<torch::Tensor>& parameters) {
  StageEnvironment& env = run.env;
  run.lr = scheduled_lr(run, run.step);
  set_learning_rate(run.optimizer, run.lr);
  auto images = input.images(batch);
  auto labels = input.labels(batch);
  if (env.channels_last) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
  torch::Tensor logits, loss;
  {
    AutocastScope autocast(env.amp);
    logits = env.network.forward(images);
    const double smoothing = run.stage().optimizer.label_smoothing;
    if (run.teacher) {
      torch::Tensor teacher_logits;
      {
        torch::NoGradGuard no_grad;
        teacher_logits = run.teacher->forward(images);
      }
      const TeacherSource& teacher = *run.stage().teacher;
      loss = distillation_loss(logits, teacher_logits, labels, teacher.temperature, teacher.weight,
                               smoothing);
    } else {
      loss = torch::nn::functional::cross_entropy(
          logits, labels,
          torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(smoothing));
    }
  }
  run.last_loss = loss.item<double>();
  if (!std::isfinite(run.last_loss)) {
    // A resume state exists only from the stage's first finished epoch (or an earlier stop) on.
    const std::string resume = env.paths.resume_state(run.stage().id);
    std::error_code ec;
    const std::string kept =
        std::filesystem::exists(resume, ec)
            ? "The last good state is kept in " + resume
            : "No resume state was saved yet, so a rerun restarts the stage from its start";
    const std::string cure = run.teacher ? "lower the learning rate or raise distill.temperature"
                                         : "lower the learning rate";
    throw Error("stage " + run.stage().id + ": loss became " + std::to_string(run.last_loss) +
                " at epoch " + std::to_string(run.epoch + 1) + ", step " +
                std::to_string(run.step + 1) + "; training stopped. " + kept + " (" + cure +
                " and rerun)");
  }
  run.optimizer.zero_grad();
  run.loss_scaler.scale(loss).backward();
  bucketer.all_reduce_average(env.dist);
  // Every rank holds the same averaged gradients, so all skip (or take) the same steps.
  if (run.loss_scaler.unscale_and_update(parameters)) run.optimizer.step();
  add_batch(run.train_sums, logits.detach(), labels, loss.detach());
  ++run.step;
  run.images_this_run += labels.size(0);
}

template <typename Event>
void fire(const Observers& observers, Event event) {
  for (const auto& observer : observers) event(*observer);
}

}  // namespace

bool StageRun::writer() const {
  return env.dist.rank() == 0;
}

void train_stage(StageEnvironment& env, StageRecord& record, int64_t stage_index,
                 int64_t epoch_offset, const Observers& observers) {
  env.network.set_bits(record.stage.w_bits, record.stage.a_bits);
  auto optimizer = make_optimizer(record.stage.optimizer, env.network, record.stage.lr());
  LossScaler loss_scaler(env.amp.scale_loss);
  std::shared_ptr<QuantNetworkImpl> teacher;
  if (record.stage.teacher) {
    teacher = load_teacher(*record.stage.teacher, env.paths, env.device,
                           env.network.config().num_classes, env.channels_last);
    spdlog::info("stage {} learns from teacher {} (temperature {}, weight {})", record.stage.id,
                 init_source_to_json(record.stage.teacher->source).get<std::string>(),
                 record.stage.teacher->temperature, record.stage.teacher->weight);
  }
  StageRun run{env,     record,      *optimizer,   loss_scaler,
               teacher, stage_index, epoch_offset, env.data.train->batches_per_epoch()};
  run.stage_start = StageRun::Clock::now();
  resume_if_saved(run);
  env.dist.broadcast_module(env.network);
  const std::vector<torch::Tensor> parameters = env.network.parameters(true);
  GradientBucketer bucketer(parameters);
  DeviceInput input(env.device);
  DataLoader& loader = *env.data.train;
  fire(observers, [&](TrainingObserver& o) { o.on_stage_start(run); });

  for (; run.epoch < record.stage.epochs; ++run.epoch) {
    run.epoch_start = StageRun::Clock::now();
    run.images_this_run = 0;
    env.network.train();
    loader.start_epoch(loader_epoch(stage_index, run.epoch), run.step);
    // The rate of the last step taken: what the epoch's record shows even when a resumed
    // epoch has no step left to take.
    run.lr = scheduled_lr(run, std::max<int64_t>(0, run.step - 1));
    fire(observers, [&](TrainingObserver& o) { o.on_epoch_start(run); });
    while (auto batch = loader.next()) {
      train_step(run, *batch, input, bucketer, parameters);
      fire(observers, [&](TrainingObserver& o) { o.on_step_end(run); });
      if (run.stop_signal != 0) {
        fire(observers, [&](TrainingObserver& o) { o.on_interrupt(run); });
        throw InterruptedError(run.stop_signal);
      }
    }
    const EpochMetrics metrics = finish_epoch(run);
    fire(observers, [&](TrainingObserver& o) { o.on_epoch_end(run, metrics); });
    run.step = 0;
  }
  if (record.stage.epochs == 0 || !record.final_metrics) score_untrained_stage(run);
  score_test_split(run);
  fire(observers, [&](TrainingObserver& o) { o.on_stage_end(run); });
  env.dist.barrier();
  log_stage_done(run);
}

}  // namespace ctmq
