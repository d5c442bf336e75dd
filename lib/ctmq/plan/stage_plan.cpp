#include "ctmq/plan/stage_plan.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "ctmq/core/errors.h"
#include "ctmq/spec/spec_parser.h"

namespace ctmq {

const Stage* StagePlan::find(const std::string& id) const {
  for (const auto& stage : stages) {
    if (stage.id == id) return &stage;
  }
  return nullptr;
}

std::string bits_label(int w_bits, int a_bits) {
  if (w_bits >= kFullPrecisionBits && a_bits >= kFullPrecisionBits) return "fp";
  return "w" + std::to_string(w_bits) + "a" + std::to_string(a_bits);
}

std::string phase_name(Phase phase) {
  switch (phase) {
    case Phase::kPretrain:
      return "pretrain";
    case Phase::kSteps:
      return "steps";
    case Phase::kCycle:
      return "cycle";
  }
  return "?";
}

namespace {
const std::string kCheckpointPrefix = "checkpoint:";
}  // namespace

nlohmann::json init_source_to_json(const InitSource& init) {
  switch (init.kind) {
    case InitSource::Kind::kRandom:
      return nullptr;
    case InitSource::Kind::kStage:
      return init.ref;
    case InitSource::Kind::kCheckpoint:
      return kCheckpointPrefix + init.ref;
  }
  return nullptr;
}

InitSource init_source_from_json(const nlohmann::json& value) {
  if (value.is_null()) return InitSource::random();
  const std::string text = value.get<std::string>();
  if (text.rfind(kCheckpointPrefix, 0) == 0) {
    return InitSource::checkpoint(text.substr(kCheckpointPrefix.size()));
  }
  return InitSource::stage(text);
}

nlohmann::json teacher_to_json(const std::optional<TeacherSource>& teacher) {
  if (!teacher) return nullptr;
  return {{"from", init_source_to_json(teacher->source)},
          {"temperature", teacher->temperature},
          {"weight", teacher->weight}};
}

std::optional<TeacherSource> teacher_from_json(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  TeacherSource teacher;
  teacher.source = init_source_from_json(value.at("from"));
  teacher.temperature = value.at("temperature").get<double>();
  teacher.weight = value.at("weight").get<double>();
  return teacher;
}

namespace {

const char kTeacherPath[] = "/distill/teacher";

bool full_precision(const Stage& stage) {
  return stage.w_bits >= kFullPrecisionBits && stage.a_bits >= kFullPrecisionBits;
}

/// "pretrain, c1-fp", or "none" for a plan that starts from pretrain.checkpoint without cycles.
std::string full_precision_ids(const StagePlan& plan) {
  std::string ids;
  for (const auto& stage : plan.stages) {
    if (full_precision(stage)) ids += (ids.empty() ? "" : ", ") + stage.id;
  }
  return ids.empty() ? "none" : ids;
}

/// Gives every student stage of the plan its teacher (distill.* of the spec).
void assign_teachers(const ExperimentSpec& spec, StagePlan& plan) {
  const std::string& name = spec.distill.teacher;
  if (name == "none") return;
  const int target_bits = static_cast<int>(spec.steps.bits.back());
  std::optional<InitSource> fixed;  // the same teacher for every student
  size_t teacher_index = 0;         // a named stage teaches only the stages after it
  if (name == "pretrain" && spec.pretrain.checkpoint) {
    fixed = InitSource::checkpoint(*spec.pretrain.checkpoint);
  } else if (const Stage* stage = plan.find(name)) {
    if (!full_precision(*stage)) {
      throw SpecError(std::string(kTeacherPath) + ": stage \"" + name +
                      "\" is low-bit; a teacher is a full-precision stage (this plan's: " +
                      full_precision_ids(plan) + ")");
    }
    fixed = InitSource::stage(name);
    teacher_index = static_cast<size_t>(stage - plan.stages.data());
  } else if (name != "accurate") {
    // A name of no stage of this plan is a file, even one named like a stage ("c1-fp.pt"); one
    // shaped like a stage id with no such file is most likely a stage this plan lacks. The one
    // file-system look-up of the plan, so that `ctmq plan` reports it too.
    std::error_code ec;
    if (looks_like_stage_id(name) && !std::filesystem::exists(name, ec)) {
      throw SpecError(std::string(kTeacherPath) + ": this plan has no stage \"" + name +
                      "\" and there is no such file (its full-precision stages: " +
                      full_precision_ids(plan) + ")");
    }
    fixed = InitSource::checkpoint(name);
  }
  std::optional<InitSource> latest_accurate;  // for "accurate"
  if (spec.pretrain.checkpoint) latest_accurate = InitSource::checkpoint(*spec.pretrain.checkpoint);
  for (size_t i = 0; i < plan.stages.size(); ++i) {
    Stage& stage = plan.stages[i];
    if (full_precision(stage)) {
      latest_accurate = InitSource::stage(stage.id);
      continue;
    }
    const bool student =
        spec.distill.stages == DistillStages::kLowBit || stage.w_bits == target_bits;
    if (!student) continue;
    std::optional<InitSource> source = fixed ? fixed : latest_accurate;
    if (fixed && fixed->kind == InitSource::Kind::kStage && i < teacher_index) source.reset();
    if (!source) continue;
    stage.teacher = TeacherSource{*source, spec.distill.temperature, spec.distill.weight};
  }
}

}  // namespace

StagePlan make_stage_plan(const ExperimentSpec& spec) {
  StagePlan plan;
  const double base_lr = spec.optimizer.lr;
  const double pretrain_lr = spec.pretrain.lr.value_or(base_lr);
  const double steps_lr = spec.steps.lr.value_or(base_lr);
  const double cycle_lr = spec.cycles.lr.value_or(steps_lr);
  const double accurate_lr = spec.cycles.accurate_lr.value_or(pretrain_lr);

  auto with_lr = [&](double lr) {
    OptimizerSpec optimizer = spec.optimizer;
    optimizer.lr = lr;
    return optimizer;
  };
  InitSource previous;
  if (spec.pretrain.checkpoint) {
    previous = InitSource::checkpoint(*spec.pretrain.checkpoint);
  } else {
    Stage pretrain;
    pretrain.id = "pretrain";
    pretrain.phase = Phase::kPretrain;
    pretrain.epochs = spec.pretrain.epochs;
    pretrain.optimizer = with_lr(pretrain_lr);
    plan.stages.push_back(pretrain);
    previous = InitSource::stage(pretrain.id);
  }

  auto add_low_bit = [&](Phase phase, int cycle, int bits, double lr, int64_t epochs) {
    Stage stage;
    stage.phase = phase;
    stage.cycle = cycle;
    stage.w_bits = stage.a_bits = bits;
    stage.id = "c" + std::to_string(cycle) + "-" + bits_label(bits, bits);
    stage.epochs = epochs;
    stage.optimizer = with_lr(lr);
    stage.init = previous;
    plan.stages.push_back(stage);
    previous = InitSource::stage(stage.id);
  };

  for (int64_t bits : spec.steps.bits) {
    add_low_bit(Phase::kSteps, 0, static_cast<int>(bits), steps_lr, spec.steps.epochs);
  }
  for (int cycle = 1; cycle <= spec.cycles.count; ++cycle) {
    Stage accurate;
    accurate.id = "c" + std::to_string(cycle) + "-fp";
    accurate.phase = Phase::kCycle;
    accurate.cycle = cycle;
    accurate.epochs = spec.cycles.accurate_epochs;
    accurate.optimizer = with_lr(accurate_lr);
    if (spec.cycles.accurate_warmup_epochs) {
      accurate.optimizer.warmup_epochs = *spec.cycles.accurate_warmup_epochs;
    }
    accurate.init = previous;
    plan.stages.push_back(accurate);
    previous = InitSource::stage(accurate.id);
    if (spec.cycles.ladder == CycleLadder::kTarget) {
      add_low_bit(Phase::kCycle, cycle, static_cast<int>(spec.steps.bits.back()), cycle_lr,
                  spec.steps.epochs);
    } else {
      for (int64_t bits : spec.steps.bits) {
        add_low_bit(Phase::kCycle, cycle, static_cast<int>(bits), cycle_lr, spec.steps.epochs);
      }
    }
  }
  assign_teachers(spec, plan);
  return plan;
}

std::vector<std::string> teacher_warnings(const StagePlan& plan) {
  std::vector<std::string> warnings;
  std::vector<std::string> warned;
  for (const auto& student : plan.stages) {
    if (!student.teacher || student.teacher->source.kind != InitSource::Kind::kStage) continue;
    const Stage* teacher = plan.find(student.teacher->source.ref);
    if (!teacher || teacher->epochs > 0) continue;
    if (std::find(warned.begin(), warned.end(), teacher->id) != warned.end()) continue;
    warned.push_back(teacher->id);
    const std::string weights = teacher->init.kind == InitSource::Kind::kRandom
                                    ? "its random initial weights"
                                    : "the weights it starts from (" +
                                          init_source_to_json(teacher->init).get<std::string>() +
                                          "), untrained at full precision";
    warnings.push_back("distill.teacher: the teacher stage " + teacher->id +
                       " trains 0 epochs, so its students learn from " + weights);
  }
  return warnings;
}

nlohmann::json plan_to_json(const StagePlan& plan) {
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& stage : plan.stages) {
    stages.push_back({{"id", stage.id},
                      {"phase", phase_name(stage.phase)},
                      {"cycle", stage.cycle},
                      {"w_bits", stage.w_bits},
                      {"a_bits", stage.a_bits},
                      {"epochs", stage.epochs},
                      {"lr", stage.lr()},
                      {"init_from", init_source_to_json(stage.init)},
                      {"teacher", teacher_to_json(stage.teacher)}});
  }
  return {{"stages", stages}};
}

std::string plan_to_table(const StagePlan& plan) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof(line), "%-3s %-12s %-9s %5s %6s %6s %7s %10s  %-14s %s\n", "#",
                "stage", "phase", "cycle", "w_bits", "a_bits", "epochs", "lr", "init from",
                "teacher");
  out << line;
  int64_t total_epochs = 0;
  for (size_t i = 0; i < plan.stages.size(); ++i) {
    const Stage& s = plan.stages[i];
    const std::string init = s.init.kind == InitSource::Kind::kRandom
                                 ? "(random)"
                                 : init_source_to_json(s.init).get<std::string>();
    const std::string teacher =
        s.teacher ? init_source_to_json(s.teacher->source).get<std::string>() : "-";
    std::snprintf(line, sizeof(line), "%-3zu %-12s %-9s %5d %6d %6d %7lld %10.4g  %-14s %s\n", i,
                  s.id.c_str(), phase_name(s.phase).c_str(), s.cycle, s.w_bits, s.a_bits,
                  static_cast<long long>(s.epochs), s.lr(), init.c_str(), teacher.c_str());
    out << line;
    total_epochs += s.epochs;
  }
  out << plan.stages.size() << " stages, " << total_epochs << " epochs in total\n";
  return out.str();
}

}  // namespace ctmq
