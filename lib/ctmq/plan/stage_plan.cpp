#include "ctmq/plan/stage_plan.h"

#include <cstdio>
#include <sstream>

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

StagePlan make_stage_plan(const ExperimentSpec& spec) {
  StagePlan plan;
  const double base_lr = spec.optimizer.lr;
  const double pretrain_lr = spec.pretrain.lr.value_or(base_lr);
  const double steps_lr = spec.steps.lr.value_or(base_lr);
  const double cycle_lr = spec.cycles.lr.value_or(steps_lr);
  const double accurate_lr = spec.cycles.accurate_lr.value_or(pretrain_lr);

  std::string previous;
  if (spec.pretrain.checkpoint) {
    previous = "checkpoint:" + *spec.pretrain.checkpoint;
  } else {
    Stage pretrain;
    pretrain.id = "pretrain";
    pretrain.phase = Phase::kPretrain;
    pretrain.epochs = spec.pretrain.epochs;
    pretrain.lr = pretrain_lr;
    plan.stages.push_back(pretrain);
    previous = pretrain.id;
  }

  auto add_low_bit = [&](Phase phase, int cycle, int bits, double lr, int64_t epochs) {
    Stage stage;
    stage.phase = phase;
    stage.cycle = cycle;
    stage.w_bits = stage.a_bits = bits;
    stage.id = "c" + std::to_string(cycle) + "-" + bits_label(bits, bits);
    stage.epochs = epochs;
    stage.lr = lr;
    stage.init_from = previous;
    plan.stages.push_back(stage);
    previous = stage.id;
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
    accurate.lr = accurate_lr;
    accurate.init_from = previous;
    plan.stages.push_back(accurate);
    previous = accurate.id;
    if (spec.cycles.ladder == "target") {
      add_low_bit(Phase::kCycle, cycle, static_cast<int>(spec.steps.bits.back()), cycle_lr,
                  spec.steps.epochs);
    } else {
      for (int64_t bits : spec.steps.bits) {
        add_low_bit(Phase::kCycle, cycle, static_cast<int>(bits), cycle_lr, spec.steps.epochs);
      }
    }
  }
  return plan;
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
                      {"lr", stage.lr},
                      {"init_from", stage.init_from.empty() ? nlohmann::json(nullptr)
                                                            : nlohmann::json(stage.init_from)}});
  }
  return {{"stages", stages}};
}

std::string plan_to_table(const StagePlan& plan) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof(line), "%-3s %-12s %-9s %5s %6s %6s %7s %10s  %s\n", "#", "stage",
                "phase", "cycle", "w_bits", "a_bits", "epochs", "lr", "init from");
  out << line;
  int64_t total_epochs = 0;
  for (size_t i = 0; i < plan.stages.size(); ++i) {
    const Stage& s = plan.stages[i];
    std::snprintf(line, sizeof(line), "%-3zu %-12s %-9s %5d %6d %6d %7lld %10.4g  %s\n", i,
                  s.id.c_str(), phase_name(s.phase).c_str(), s.cycle, s.w_bits, s.a_bits,
                  static_cast<long long>(s.epochs), s.lr,
                  s.init_from.empty() ? "(random)" : s.init_from.c_str());
    out << line;
    total_epochs += s.epochs;
  }
  out << plan.stages.size() << " stages, " << total_epochs << " epochs in total\n";
  return out.str();
}

}  // namespace ctmq
