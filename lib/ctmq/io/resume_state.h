#pragma once
// The resume state of a stage, saved atomically at every epoch end and on a graceful stop:
// model, optimizer, RNG, the position in the epoch and the metrics gathered so far.

#include <torch/torch.h>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "ctmq/io/checkpoint.h"

namespace ctmq {

struct ResumeState {
  StateDict model;
  /// Where to continue: `epoch` (0-based) at batch `next_step`, with the epoch's partial sums.
  nlohmann::json progress;
};

/// Writes the state with `optimizer`'s per-parameter state keyed by the names `network` gives
/// its parameters (io/optimizer_state.h).
void save_resume_state(const std::string& path, const ResumeState& state,
                       torch::optim::Optimizer& optimizer, const torch::nn::Module& network);

/// Loads the state and restores `optimizer` (which must have the same parameter groups), its
/// buffers on the parameters' device. States written before the optimizer state was saved by
/// name (LibTorch's own optimizer archive, by 1.13 or 2.x) load too. Returns nullopt when no
/// file exists; throws IoError naming the file when it is corrupt.
std::optional<ResumeState> load_resume_state(const std::string& path,
                                             torch::optim::Optimizer& optimizer,
                                             const torch::nn::Module& network);

/// The state's progress document alone, to decide whether it applies before anything is
/// restored; nullopt when no file exists; throws IoError naming the file when it is corrupt.
std::optional<nlohmann::json> read_resume_progress(const std::string& path);

}  // namespace ctmq
