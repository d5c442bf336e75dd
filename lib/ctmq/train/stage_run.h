#pragma once
// The state of the stage being trained, and the observers its training loop reports to.
// Observers (Caffe's solver callbacks, Marian's training-state observers) keep saving,
// logging, progress and stopping out of the loop: the loop runs steps and fires events.

#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "ctmq/data/dataset_factory.h"
#include "ctmq/io/manifest.h"
#include "ctmq/io/run_meta.h"
#include "ctmq/models/network.h"
#include "ctmq/train/mixed_precision.h"

namespace ctmq {

class DistContext;

/// What every stage of a run shares.
struct StageEnvironment {
  const RunPaths& paths;
  torch::Device device;
  DistContext& dist;
  DataSplits& data;
  QuantNetworkImpl& network;
  RunMeta run_meta;                     ///< what every checkpoint of the run records
  std::function<void()> save_manifest;  ///< writes manifest.json (rank 0 only)
  AmpSetting amp{};                     ///< train.amp as it applies to this device
  bool channels_last = false;           ///< batches (and the network) in channels-last memory
  int64_t batch_size = 0;               ///< per process
  int64_t log_interval = 50;            ///< train.log_interval
};

/// One stage in training: its record, optimizer and where it stands.
struct StageRun {
  using Clock = std::chrono::steady_clock;

  StageEnvironment& env;
  StageRecord& record;
  torch::optim::Optimizer& optimizer;
  LossScaler& loss_scaler;
  /// The stage's distillation teacher (frozen, eval mode), or null.
  std::shared_ptr<QuantNetworkImpl> teacher;
  int64_t stage_index = 0;   ///< keys the loader's shuffling
  int64_t epoch_offset = 0;  ///< epochs of the stages before this one
  int64_t steps_per_epoch = 0;

  int64_t epoch = 0;            ///< 0-based epoch in training
  int64_t step = 0;             ///< steps done in this epoch
  double lr = 0.0;              ///< the rate of the last step taken
  double last_loss = 0.0;       ///< the loss of the last step
  MetricSums train_sums;        ///< this epoch so far (of every rank after a resume on rank 0)
  int64_t images_this_run = 0;  ///< images this process trained this epoch since it started
  Clock::time_point stage_start;
  Clock::time_point epoch_start;
  int stop_signal = 0;  ///< set by an observer: the stage saves and stops after this step

  const Stage& stage() const { return record.stage; }
  bool writer() const;  ///< rank 0, the only one that writes files
};

/// Receives the events of every stage's loop. Observers run in the order they were added.
class TrainingObserver {
 public:
  virtual ~TrainingObserver() = default;
  virtual void on_stage_start(StageRun& /*run*/) {}
  virtual void on_epoch_start(StageRun& /*run*/) {}
  virtual void on_step_end(StageRun& /*run*/) {}
  /// After an observer set run.stop_signal; the loop then throws InterruptedError.
  virtual void on_interrupt(StageRun& /*run*/) {}
  /// `metrics` is already in run.record.
  virtual void on_epoch_end(StageRun& /*run*/, const EpochMetrics& /*metrics*/) {}
  virtual void on_stage_end(StageRun& /*run*/) {}
};

using Observers = std::vector<std::shared_ptr<TrainingObserver>>;

}  // namespace ctmq
