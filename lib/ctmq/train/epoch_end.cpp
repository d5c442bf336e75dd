#include "ctmq/train/epoch_end.h"

#include <spdlog/spdlog.h>

#include "ctmq/core/errors.h"
#include "ctmq/dist/process_group.h"
#include "ctmq/train/evaluator.h"
#include "ctmq/train/stop_signal.h"

namespace ctmq {
namespace {

double seconds_since(StageRun::Clock::time_point start) {
  return std::chrono::duration<double>(StageRun::Clock::now() - start).count();
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

EvalMetrics score_split(StageEnvironment& env, DataLoader& split, const StopPoll& stop = {}) {
  env.network.eval();
  return evaluate_split([&](const torch::Tensor& x) { return env.network.forward(x); }, split,
                        env.device, &env.dist, stop);
}

/// The passes after a stage's last epoch can take minutes (ImageNet's 50,000 test images) and
/// nothing is lost by stopping them: the trained weights are in the resume state (or the stage
/// trains no epoch), and the stage stays unfinished, so a rerun scores it again.
EvalMetrics score_after_training(StageRun& run, DataLoader& split, const char* pass) {
  try {
    return score_split(run.env, split, [] { return stop_requested(); });
  } catch (const InterruptedError& stop) {
    spdlog::warn(
        "{}: stopping on signal {} during the {} pass; its training is saved, a rerun "
        "scores it again",
        run.stage().id, stop.signal_number(), pass);
    throw;
  }
}

void record_epoch(StageRecord& record, const EpochMetrics& m) {
  record.history.push_back(m);
  record.final_metrics =
      StageMetrics{m.val_loss, m.val_top1, m.val_top5, m.train_loss, m.train_top1, m.epoch};
  if (!record.best_metrics || m.val_top1 > record.best_metrics->val_top1) {
    record.best_metrics = BestMetrics{m.val_top1, m.val_top5, m.epoch};
  }
  record.epochs_done = m.epoch;
  record.wall_seconds += m.seconds;
}

}  // namespace

EpochMetrics finish_epoch(StageRun& run) {
  StageEnvironment& env = run.env;
  const Stage& stage = run.stage();
  average_batch_norm_statistics(env.network, env.dist);
  const double train_seconds = seconds_since(run.epoch_start);
  const EvalMetrics val = score_split(env, *env.data.val);
  all_reduce(run.train_sums, env.dist);
  const EvalMetrics train = metrics_of(run.train_sums);
  EpochMetrics m;
  m.stage = stage.id;
  m.cycle = stage.cycle;
  m.w_bits = stage.w_bits;
  m.a_bits = stage.a_bits;
  m.epoch = run.epoch + 1;
  m.cumulative_epoch = run.epoch_offset + run.epoch + 1;
  m.lr = run.lr;
  m.train_loss = train.loss;
  m.train_top1 = train.top1;
  m.val_loss = val.loss;
  m.val_top1 = val.top1;
  m.val_top5 = val.top5;
  m.seconds = seconds_since(run.epoch_start);
  m.images_per_second = static_cast<double>(run.images_this_run * env.dist.world_size()) /
                        std::max(1e-9, train_seconds);
  record_epoch(run.record, m);
  run.train_sums = MetricSums{};
  return m;
}

void score_untrained_stage(StageRun& run) {
  const EvalMetrics val = score_after_training(run, *run.env.data.val, "validation");
  run.record.final_metrics = StageMetrics{val.loss, val.top1, val.top5, {}, {}, 0};
  run.record.best_metrics = BestMetrics{val.top1, val.top5, 0};
}

void score_test_split(StageRun& run) {
  StageEnvironment& env = run.env;
  if (!env.data.test) return;
  const EvalMetrics test = score_after_training(run, *env.data.test, "test");
  run.record.test_metrics = TestMetrics{test.loss, test.top1, test.top5};
}

void log_stage_done(const StageRun& run) {
  double checksum = 0.0;
  for (const auto& parameter : run.env.network.parameters(true)) {
    checksum += parameter.detach().to(torch::kDouble).sum().item<double>();
  }
  const Stage& stage = run.stage();
  spdlog::info("stage {} weights checksum {:.10e} (rank {})", stage.id, checksum,
               run.env.dist.rank());
  const auto& test = run.record.test_metrics;
  spdlog::info("stage {} done: val top1 {:.2f}% top5 {:.2f}%{} ({:.0f}s)", stage.id,
               run.record.final_metrics->val_top1, run.record.final_metrics->val_top5,
               test ? fmt::format(" | test top1 {:.2f}% top5 {:.2f}%", test->top1, test->top5)
                    : std::string(),
               seconds_since(run.stage_start));
}

}  // namespace ctmq
