#pragma once
// Trains one stage of the plan: one network at one bit depth for its epochs, with its own
// optimizer and learning-rate schedule, saving a resume state at every epoch end.

#include <torch/torch.h>

#include <functional>

#include <nlohmann/json.hpp>

#include "ctmq/data/dataset_factory.h"
#include "ctmq/io/manifest.h"
#include "ctmq/models/network.h"
#include "ctmq/spec/spec.h"
#include "ctmq/train/mixed_precision.h"

namespace ctmq {

class DistContext;

/// What every stage of a run shares.
struct StageEnvironment {
  const ExperimentSpec& spec;
  const RunPaths& paths;
  torch::Device device;
  DistContext& dist;
  DataSplits& data;
  QuantNetworkImpl& network;
  nlohmann::json checkpoint_meta;       ///< spec hash, version, network config; stage fields added
  std::function<void()> save_manifest;  ///< writes manifest.json (rank 0 only)
  AmpSetting amp{};                     ///< train.amp as it applies to this device
  bool channels_last = false;           ///< batches (and the network) in channels-last memory
  /// Testing hook (env CTMQ_TEST_STOP_AT_STEP): this process raises SIGTERM on itself after
  /// that many training steps, so tests can interrupt a run at an exact point. 0 = off.
  int64_t stop_at_step = 0;
  int64_t steps_taken = 0;  ///< training steps of this process, over all stages
};

/// Trains `record.stage` from the network's current weights (or from its resume state, if one
/// was saved), then writes the stage checkpoint and marks the record done. `stage_index` keys
/// the loader's shuffling; `epoch_offset` is the number of epochs of the stages before it.
void train_stage(StageEnvironment& env, StageRecord& record, int64_t stage_index,
                 int64_t epoch_offset);

/// The checkpoint metadata of a finished stage.
nlohmann::json stage_checkpoint_meta(const StageEnvironment& env, const StageRecord& record);

}  // namespace ctmq
