#pragma once
// The CTMQ stage plan: a pure function from spec to the ordered list of training stages.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctmq/spec/spec.h"

namespace ctmq {

enum class Phase { kPretrain, kSteps, kCycle };

/// Where a stage's starting weights come from.
struct InitSource {
  enum class Kind { kRandom, kStage, kCheckpoint };
  Kind kind = Kind::kRandom;
  std::string ref;  ///< the stage id (kStage) or the checkpoint file (kCheckpoint)

  static InitSource random() { return {}; }
  static InitSource stage(std::string id) { return {Kind::kStage, std::move(id)}; }
  static InitSource checkpoint(std::string path) { return {Kind::kCheckpoint, std::move(path)}; }
  bool operator==(const InitSource& other) const { return kind == other.kind && ref == other.ref; }
};

/// A full-precision network a stage learns from (knowledge distillation).
struct TeacherSource {
  InitSource source;  ///< kStage (an earlier full-precision stage) or kCheckpoint
  double temperature = 1.0;
  double weight = 0.0;  ///< of the KL term; the label loss gets 1 - weight
  bool operator==(const TeacherSource& other) const {
    return source == other.source && temperature == other.temperature && weight == other.weight;
  }
};

/// One model at one bit depth, trained for `epochs` from the weights of `init`: everything its
/// trainer needs, resolved from the spec.
struct Stage {
  std::string id;  ///< "pretrain", "c0-w4a4", "c1-fp", ...
  Phase phase = Phase::kPretrain;
  int cycle = 0;  ///< 0 for pretraining and the quantization-step phase
  int w_bits = kFullPrecisionBits;
  int a_bits = kFullPrecisionBits;
  int64_t epochs = 0;
  /// The stage's optimizer and schedule; `optimizer.lr` is this stage's peak rate.
  OptimizerSpec optimizer;
  InitSource init;
  std::optional<TeacherSource> teacher;  ///< distill.* resolved for this stage

  double lr() const { return optimizer.lr; }
};

struct StagePlan {
  std::vector<Stage> stages;
  const Stage* find(const std::string& id) const;
};

/// Builds the plan: pretrain (omitted when pretrain.checkpoint is set), the quantization-step
/// phase c0-w<b>a<b> for each b of steps.bits, then per cycle k: ck-fp and the ladder again
/// ("full") or only its last depth ("target"). With distill.teacher set, every student stage
/// (distill.stages) gets its teacher; a teacher stage id teaches only the stages after it.
/// distill.teacher names a stage when a stage of this plan has that id, else a checkpoint file.
/// Throws SpecError naming /distill/teacher (without the spec file, which the caller adds) when
/// the teacher is a low-bit stage, or looks like a stage id of no stage and no file.
StagePlan make_stage_plan(const ExperimentSpec& spec);

/// Problems of a plan that do not stop it: a teacher stage that trains 0 epochs (students would
/// learn from an untrained network). One line each, for `ctmq plan` and the run's log.
std::vector<std::string> teacher_warnings(const StagePlan& plan);

/// "fp" for 32 bits, "w4a4" otherwise.
std::string bits_label(int w_bits, int a_bits);
std::string phase_name(Phase phase);

/// The manifest's and `ctmq plan`'s text for an InitSource: null (random), the stage id, or
/// "checkpoint:<path>"; and back.
nlohmann::json init_source_to_json(const InitSource& init);
InitSource init_source_from_json(const nlohmann::json& value);

/// The manifest's and `ctmq plan`'s text for a stage's teacher: null, or
/// {"from": <init source text>, "temperature": T, "weight": w}; and back.
nlohmann::json teacher_to_json(const std::optional<TeacherSource>& teacher);
std::optional<TeacherSource> teacher_from_json(const nlohmann::json& value);

nlohmann::json plan_to_json(const StagePlan& plan);
/// Human-readable table for `ctmq plan`.
std::string plan_to_table(const StagePlan& plan);

}  // namespace ctmq
