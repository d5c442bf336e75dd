#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "ctmq/core/errors.h"
#include "ctmq/plan/stage_plan.h"
#include "ctmq/spec/spec_keys.h"

namespace ctmq {
namespace {

std::vector<std::string> ids(const StagePlan& plan) {
  std::vector<std::string> out;
  for (const auto& stage : plan.stages) out.push_back(stage.id);
  return out;
}

ExperimentSpec base_spec() {
  ExperimentSpec spec = spec_defaults();
  spec.steps.bits = {4, 3, 2, 1};
  spec.cycles.count = 2;
  spec.pretrain.epochs = 10;
  spec.steps.epochs = 2;
  spec.cycles.accurate_epochs = 3;
  return spec;
}

TEST(StagePlan, FullLadderWithTwoCycles) {
  StagePlan plan = make_stage_plan(base_spec());
  EXPECT_EQ(ids(plan),
            (std::vector<std::string>{"pretrain", "c0-w4a4", "c0-w3a3", "c0-w2a2", "c0-w1a1",
                                      "c1-fp", "c1-w4a4", "c1-w3a3", "c1-w2a2", "c1-w1a1", "c2-fp",
                                      "c2-w4a4", "c2-w3a3", "c2-w2a2", "c2-w1a1"}));
  for (size_t i = 1; i < plan.stages.size(); ++i) {
    EXPECT_EQ(plan.stages[i].init, InitSource::stage(plan.stages[i - 1].id));
  }
  EXPECT_EQ(plan.stages[0].init, InitSource::random());
  EXPECT_EQ(plan.find("c1-fp")->w_bits, kFullPrecisionBits);
  EXPECT_EQ(plan.find("c1-fp")->epochs, 3);
  EXPECT_EQ(plan.find("c1-fp")->cycle, 1);
  EXPECT_EQ(plan.find("c2-w3a3")->a_bits, 3);
  EXPECT_EQ(plan.find("c2-w3a3")->epochs, 2);
  EXPECT_EQ(plan.find("pretrain")->epochs, 10);
}

TEST(StagePlan, TargetLadderHandsStraightToLowestDepth) {
  ExperimentSpec spec = base_spec();
  spec.cycles.ladder = CycleLadder::kTarget;
  StagePlan plan = make_stage_plan(spec);
  EXPECT_EQ(ids(plan),
            (std::vector<std::string>{"pretrain", "c0-w4a4", "c0-w3a3", "c0-w2a2", "c0-w1a1",
                                      "c1-fp", "c1-w1a1", "c2-fp", "c2-w1a1"}));
  EXPECT_EQ(plan.find("c2-w1a1")->init, InitSource::stage("c2-fp"));
}

TEST(StagePlan, PretrainCheckpointSkipsPretraining) {
  ExperimentSpec spec = base_spec();
  spec.pretrain.checkpoint = "/models/fp.pt";
  spec.cycles.count = 0;
  StagePlan plan = make_stage_plan(spec);
  EXPECT_EQ(ids(plan), (std::vector<std::string>{"c0-w4a4", "c0-w3a3", "c0-w2a2", "c0-w1a1"}));
  EXPECT_EQ(plan.stages[0].init, InitSource::checkpoint("/models/fp.pt"));
  EXPECT_EQ(init_source_to_json(plan.stages[0].init), "checkpoint:/models/fp.pt");
}

TEST(StagePlan, DirectBinarizationIsASingleStep) {
  ExperimentSpec spec = base_spec();
  spec.steps.bits = {1};
  spec.cycles.count = 0;
  StagePlan plan = make_stage_plan(spec);
  EXPECT_EQ(ids(plan), (std::vector<std::string>{"pretrain", "c0-w1a1"}));
  EXPECT_EQ(plan.stages[1].init, InitSource::stage("pretrain"));
}

TEST(StagePlan, LearningRatesFallBackInOrder) {
  ExperimentSpec spec = base_spec();
  spec.optimizer.lr = 0.1;
  spec.steps.lr = 0.01;
  spec.pretrain.lr = 0.2;
  StagePlan plan = make_stage_plan(spec);
  EXPECT_DOUBLE_EQ(plan.find("pretrain")->lr(), 0.2);
  EXPECT_DOUBLE_EQ(plan.find("c0-w4a4")->lr(), 0.01);
  EXPECT_DOUBLE_EQ(plan.find("c1-w4a4")->lr(), 0.01);  // cycles.lr falls back to steps.lr
  EXPECT_DOUBLE_EQ(plan.find("c1-fp")->lr(), 0.2);     // accurate_lr falls back to pretrain.lr
  spec.cycles.lr = 0.005;
  spec.cycles.accurate_lr = 0.05;
  plan = make_stage_plan(spec);
  EXPECT_DOUBLE_EQ(plan.find("c2-w1a1")->lr(), 0.005);
  EXPECT_DOUBLE_EQ(plan.find("c2-fp")->lr(), 0.05);
}

TEST(StagePlan, EveryStageCarriesTheSpecsOptimizerAtItsOwnRate) {
  ExperimentSpec spec = base_spec();
  spec.optimizer.name = OptimizerKind::kAdamW;
  spec.optimizer.schedule = ScheduleKind::kStep;
  spec.optimizer.milestones = {1};
  spec.optimizer.label_smoothing = 0.1;
  spec.steps.lr = 0.01;
  for (const Stage& stage : make_stage_plan(spec).stages) {
    EXPECT_EQ(stage.optimizer.name, OptimizerKind::kAdamW) << stage.id;
    EXPECT_EQ(stage.optimizer.schedule, ScheduleKind::kStep) << stage.id;
    EXPECT_EQ(stage.optimizer.milestones, std::vector<int64_t>{1}) << stage.id;
    EXPECT_DOUBLE_EQ(stage.optimizer.label_smoothing, 0.1) << stage.id;
  }
  EXPECT_DOUBLE_EQ(make_stage_plan(spec).find("c0-w2a2")->optimizer.lr, 0.01);
}

TEST(StagePlan, InitSourcesRoundTripThroughTheirText) {
  for (const InitSource& init : {InitSource::random(), InitSource::stage("c1-fp"),
                                 InitSource::checkpoint("/runs/a/checkpoints/pretrain.pt")}) {
    EXPECT_EQ(init_source_from_json(init_source_to_json(init)), init);
  }
}

TEST(StagePlan, JsonAndTableListEveryStage) {
  StagePlan plan = make_stage_plan(base_spec());
  auto json = plan_to_json(plan);
  ASSERT_EQ(json["stages"].size(), plan.stages.size());
  EXPECT_EQ(json["stages"][0]["init_from"], nullptr);
  EXPECT_EQ(json["stages"][5]["id"], "c1-fp");
  EXPECT_EQ(json["stages"][5]["phase"], "cycle");
  std::string table = plan_to_table(plan);
  EXPECT_NE(table.find("c2-w1a1"), std::string::npos);
  EXPECT_NE(table.find("15 stages, 40 epochs in total"), std::string::npos) << table;
}

TEST(StagePlan, BitsLabels) {
  EXPECT_EQ(bits_label(32, 32), "fp");
  EXPECT_EQ(bits_label(1, 1), "w1a1");
  EXPECT_EQ(bits_label(2, 4), "w2a4");
}

}  // namespace
}  // namespace ctmq

namespace ctmq {
namespace {

/// stage id -> its teacher's text ("-" without one).
std::map<std::string, std::string> teachers(const StagePlan& plan) {
  std::map<std::string, std::string> out;
  for (const auto& stage : plan.stages) {
    out[stage.id] =
        stage.teacher ? init_source_to_json(stage.teacher->source).get<std::string>() : "-";
  }
  return out;
}

TEST(StagePlanDistill, AccurateTeachesEachStudentTheLatestFullPrecisionStage) {
  ExperimentSpec spec = base_spec();
  spec.distill.teacher = "accurate";
  spec.distill.temperature = 3.0;
  spec.distill.weight = 0.7;
  const StagePlan plan = make_stage_plan(spec);
  const auto t = teachers(plan);
  for (const char* id : {"pretrain", "c1-fp", "c2-fp"}) EXPECT_EQ(t.at(id), "-") << id;
  for (const char* id : {"c0-w4a4", "c0-w1a1"}) EXPECT_EQ(t.at(id), "pretrain") << id;
  for (const char* id : {"c1-w4a4", "c1-w1a1"}) EXPECT_EQ(t.at(id), "c1-fp") << id;
  for (const char* id : {"c2-w3a3", "c2-w1a1"}) EXPECT_EQ(t.at(id), "c2-fp") << id;
  EXPECT_EQ(plan.find("c1-w2a2")->teacher->temperature, 3.0);
  EXPECT_EQ(plan.find("c1-w2a2")->teacher->weight, 0.7);
  // The manifest round trip keeps it.
  EXPECT_EQ(teacher_from_json(teacher_to_json(plan.find("c1-w2a2")->teacher)),
            plan.find("c1-w2a2")->teacher);
  EXPECT_FALSE(teacher_from_json(teacher_to_json(std::nullopt)));
}

TEST(StagePlanDistill, TargetStagesOnlyAndAGivenPretrainedCheckpoint) {
  ExperimentSpec spec = base_spec();
  spec.distill.teacher = "accurate";
  spec.distill.stages = DistillStages::kTarget;
  spec.pretrain.checkpoint = "/models/fp.pt";
  const auto t = teachers(make_stage_plan(spec));
  EXPECT_EQ(t.at("c0-w1a1"), "checkpoint:/models/fp.pt");
  EXPECT_EQ(t.at("c0-w2a2"), "-");
  EXPECT_EQ(t.at("c2-w1a1"), "c2-fp");
  spec.distill.teacher = "pretrain";
  EXPECT_EQ(teachers(make_stage_plan(spec)).at("c2-w1a1"), "checkpoint:/models/fp.pt");
}

TEST(StagePlanDistill, ANamedStageTeachesOnlyTheStagesAfterIt) {
  ExperimentSpec spec = base_spec();
  spec.distill.teacher = "c1-fp";
  const auto t = teachers(make_stage_plan(spec));
  EXPECT_EQ(t.at("c0-w1a1"), "-");
  EXPECT_EQ(t.at("c1-w4a4"), "c1-fp");
  EXPECT_EQ(t.at("c2-w1a1"), "c1-fp");
  spec.distill.teacher = "/models/teacher.pt";
  EXPECT_EQ(teachers(make_stage_plan(spec)).at("c0-w4a4"), "checkpoint:/models/teacher.pt");
  spec.distill.teacher = "none";
  EXPECT_EQ(teachers(make_stage_plan(spec)).at("c1-w1a1"), "-");
}

TEST(StagePlanDistill, ALowBitOrMissingTeacherStageIsASpecErrorNamingTheKey) {
  ExperimentSpec spec = base_spec();
  for (const char* teacher : {"c1-w2a2", "c3-fp"}) {
    spec.distill.teacher = teacher;
    try {
      make_stage_plan(spec);
      FAIL() << teacher << " was accepted";
    } catch (const SpecError& e) {
      EXPECT_NE(std::string(e.what()).find("/distill/teacher"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(teacher), std::string::npos) << e.what();
    }
  }
}

TEST(StagePlanDistill, ANameOfNoStageIsAFileEvenWhenItLooksLikeAStageId) {
  // "c1-fp.pt" in the working directory, as a user would give a file beside the spec.
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "ctmq-plan-teacher";
  std::filesystem::create_directories(dir);
  const std::filesystem::path previous = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  std::ofstream(dir / "c1-fp.pt") << "a checkpoint";
  ExperimentSpec spec = base_spec();
  spec.cycles.count = 0;
  spec.distill.teacher = "c1-fp.pt";
  std::map<std::string, std::string> t;
  EXPECT_NO_THROW(t = teachers(make_stage_plan(spec)));
  EXPECT_EQ(t["c0-w1a1"], "checkpoint:c1-fp.pt");
  // With no such file, a stage-like name of no stage is refused, listing the plan's real
  // full-precision stages (this plan has no cycle, so no c1-fp).
  spec.distill.teacher = "c1-fp";
  try {
    make_stage_plan(spec);
    ADD_FAILURE() << "c1-fp was accepted without cycles";
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find("(its full-precision stages: pretrain)"),
              std::string::npos)
        << e.what();
  }
  std::filesystem::current_path(previous);
  std::filesystem::remove_all(dir);
}

TEST(StagePlanDistill, ATeacherStageOfZeroEpochsIsWarnedAbout) {
  ExperimentSpec spec = base_spec();
  spec.distill.teacher = "accurate";
  EXPECT_TRUE(teacher_warnings(make_stage_plan(spec)).empty());
  spec.pretrain.epochs = 0;
  const auto warnings = teacher_warnings(make_stage_plan(spec));
  ASSERT_EQ(warnings.size(), 1u);  // once, though four students learn from it
  EXPECT_NE(warnings[0].find("pretrain trains 0 epochs"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("random initial weights"), std::string::npos) << warnings[0];
  spec.pretrain.epochs = 10;
  spec.cycles.accurate_epochs = 0;
  spec.distill.teacher = "c1-fp";
  const auto cycle = teacher_warnings(make_stage_plan(spec));
  ASSERT_EQ(cycle.size(), 1u);
  EXPECT_NE(cycle[0].find("c1-fp trains 0 epochs"), std::string::npos) << cycle[0];
  EXPECT_NE(cycle[0].find("starts from (c0-w1a1)"), std::string::npos) << cycle[0];
}

TEST(StagePlan, AccurateWarmUpAppliesToTheAccurateStagesOnly) {
  ExperimentSpec spec = base_spec();
  spec.optimizer.warmup_epochs = 0;
  spec.cycles.accurate_warmup_epochs = 1;
  const StagePlan plan = make_stage_plan(spec);
  EXPECT_EQ(plan.find("c1-fp")->optimizer.warmup_epochs, 1);
  EXPECT_EQ(plan.find("c2-fp")->optimizer.warmup_epochs, 1);
  EXPECT_EQ(plan.find("pretrain")->optimizer.warmup_epochs, 0);
  EXPECT_EQ(plan.find("c1-w1a1")->optimizer.warmup_epochs, 0);
}

}  // namespace
}  // namespace ctmq
