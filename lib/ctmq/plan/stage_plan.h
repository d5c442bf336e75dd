#pragma once
// The CTMQ stage plan: a pure function from spec to the ordered list of training stages.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctmq/spec/spec.h"

namespace ctmq {

enum class Phase { kPretrain, kSteps, kCycle };

/// One model at one bit depth, trained for `epochs` from the weights of `init_from`.
struct Stage {
  std::string id;  ///< "pretrain", "c0-w4a4", "c1-fp", ...
  Phase phase = Phase::kPretrain;
  int cycle = 0;  ///< 0 for pretraining and the quantization-step phase
  int w_bits = kFullPrecisionBits;
  int a_bits = kFullPrecisionBits;
  int64_t epochs = 0;
  double lr = 0.0;
  /// Stage id whose final weights initialise this one; "" = random initialisation.
  /// For the first low-bit stage with pretrain.checkpoint set: "checkpoint:<path>".
  std::string init_from;
};

struct StagePlan {
  std::vector<Stage> stages;
  const Stage* find(const std::string& id) const;
};

/// Builds the plan: pretrain (omitted when pretrain.checkpoint is set), the quantization-step
/// phase c0-w<b>a<b> for each b of steps.bits, then per cycle k: ck-fp and the ladder again
/// ("full") or only its last depth ("target").
StagePlan make_stage_plan(const ExperimentSpec& spec);

/// "fp" for 32 bits, "w4a4" otherwise.
std::string bits_label(int w_bits, int a_bits);
std::string phase_name(Phase phase);

nlohmann::json plan_to_json(const StagePlan& plan);
/// Human-readable table for `ctmq plan`.
std::string plan_to_table(const StagePlan& plan);

}  // namespace ctmq
