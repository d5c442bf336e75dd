// Distillation from the accurate model (distill.*) and the held-out validation split
// (data.val_split), through real training runs on Fashion-MNIST.

#include "ctmq/train/distillation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "ctmq/core/atomic_file.h"
#include "ctmq/io/checkpoint.h"
#include "ctmq/io/manifest.h"
#include "in_process_run.h"
#include "run_fixture.h"

namespace ctmq {
namespace {

using test::run_ctmq;
using test::StopAfterSteps;
using test::TempDir;
using test::tiny_spec_overrides;
using test::train_in_process;

TEST(DistillationLoss, EqualsHandComputedKlAndCrossEntropy) {
  const std::vector<std::vector<double>> student{{1.0, -0.5, 2.0}, {0.3, 0.2, -1.0}};
  const std::vector<std::vector<double>> teacher{{2.5, 0.0, 1.0}, {-0.7, 1.1, 0.4}};
  const std::vector<int64_t> labels{2, 1};
  const double t = 2.5, w = 0.3;
  auto softmax = [](const std::vector<double>& z, double temperature) {
    std::vector<double> p(z.size());
    double sum = 0.0;
    for (size_t i = 0; i < z.size(); ++i) sum += p[i] = std::exp(z[i] / temperature);
    for (double& v : p) v /= sum;
    return p;
  };
  double kl = 0.0, ce = 0.0;
  for (size_t n = 0; n < student.size(); ++n) {
    const auto ps = softmax(student[n], t), pt = softmax(teacher[n], t);
    for (size_t i = 0; i < ps.size(); ++i) kl += pt[i] * std::log(pt[i] / ps[i]);
    ce -= std::log(softmax(student[n], 1.0)[static_cast<size_t>(labels[n])]);
  }
  kl /= 2.0;
  ce /= 2.0;
  auto to_tensor = [](const std::vector<std::vector<double>>& rows) {
    return torch::tensor({rows[0][0], rows[0][1], rows[0][2], rows[1][0], rows[1][1], rows[1][2]},
                         torch::kFloat)
        .reshape({2, 3});
  };
  const auto s = to_tensor(student).requires_grad_(true);
  const auto teach = to_tensor(teacher);
  const auto y = torch::tensor({labels[0], labels[1]}, torch::kLong);
  const auto loss = distillation_loss(s, teach, y, t, w);
  // float32 round-off on values of order 1.
  EXPECT_NEAR(loss.item<double>(), w * t * t * kl + (1 - w) * ce, 1e-6);
  EXPECT_NEAR(distillation_loss(s, teach, y, t, 0.0).item<double>(), ce, 1e-6);
  EXPECT_NEAR(distillation_loss(s, teach, y, t, 1.0).item<double>(), t * t * kl, 1e-6);
  EXPECT_NEAR(distillation_loss(s, s.detach(), y, t, 1.0).item<double>(), 0.0, 1e-6);

  // The KL term's gradient with respect to the student's logits is T (p_s - p_t) / N, and no
  // gradient reaches the teacher.
  const auto teacher_leaf = teach.clone().requires_grad_(true);
  distillation_loss(s, teacher_leaf, y, t, 1.0).backward();
  EXPECT_FALSE(teacher_leaf.grad().defined());
  for (size_t n = 0; n < 2; ++n) {
    const auto ps = softmax(student[n], t), pt = softmax(teacher[n], t);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_NEAR(s.grad()[static_cast<int64_t>(n)][static_cast<int64_t>(i)].item<double>(),
                  t * (ps[i] - pt[i]) / 2.0, 1e-6);
    }
  }
}

/// Checks every stage's teacher: which it is, eval mode, and that its weights are those of its
/// checkpoint when the stage starts and when it ends.
class TeacherWatcher : public TrainingObserver {
 public:
  std::map<std::string, std::string> teacher_of;  ///< stage -> teacher text, "-" for none

  void on_stage_start(StageRun& run) override {
    const Stage& stage = run.stage();
    teacher_of[stage.id] =
        stage.teacher ? init_source_to_json(stage.teacher->source).get<std::string>() : "-";
    EXPECT_EQ(static_cast<bool>(run.teacher), stage.teacher.has_value()) << stage.id;
    if (!run.teacher) return;
    EXPECT_FALSE(run.teacher->is_training()) << stage.id;
    expect_checkpoint_weights(run);
  }
  void on_stage_end(StageRun& run) override {
    if (run.teacher) expect_checkpoint_weights(run);
  }

 private:
  static void expect_checkpoint_weights(StageRun& run) {
    const std::string file = run.env.paths.checkpoint(run.stage().teacher->source.ref);
    const Checkpoint saved = load_checkpoint(file);
    for (const auto& item : run.teacher->named_parameters(true)) {
      EXPECT_FALSE(item.value().requires_grad()) << item.key();
      ASSERT_TRUE(saved.state.count(item.key())) << item.key();
      EXPECT_TRUE(torch::equal(item.value(), saved.state.at(item.key())))
          << run.stage().id << ": teacher's " << item.key() << " changed";
    }
    for (const auto& item : run.teacher->named_buffers(true)) {
      EXPECT_TRUE(torch::equal(item.value(), saved.state.at(item.key())))
          << run.stage().id << ": teacher's " << item.key() << " changed";
    }
  }
};

class DistillationRun : public test::FashionMnistTest {};

TEST_F(DistillationRun, StudentsLearnFromAFrozenTeacherAndTestIsScoredPerStage) {
  TempDir dir("distill");
  const std::string run = dir / "run";
  auto overrides = tiny_spec_overrides(run);
  for (const char* extra : {"distill.teacher=accurate", "data.val_split=100"}) {
    overrides.push_back(extra);
  }
  auto watcher = std::make_shared<TeacherWatcher>();
  ASSERT_EQ(train_in_process(overrides, {watcher}), 0);
  EXPECT_EQ(watcher->teacher_of, (std::map<std::string, std::string>{{"pretrain", "-"},
                                                                     {"c0-w2a2", "pretrain"},
                                                                     {"c0-w1a1", "pretrain"},
                                                                     {"c1-fp", "-"},
                                                                     {"c1-w2a2", "c1-fp"},
                                                                     {"c1-w1a1", "c1-fp"}}));

  // Every stage's final weights were scored once on the test split (val_limit 128 of the test
  // images); validation used the 100 held-out training images.
  const Manifest manifest = load_manifest(RunPaths{run});
  for (const auto& record : manifest.stages) {
    ASSERT_TRUE(record.test_metrics) << record.stage.id;
    EXPECT_GE(record.test_metrics->top1, 0.0);
    EXPECT_LE(record.test_metrics->top5, 100.0);
  }
  std::ifstream metrics(run + "/metrics.jsonl");
  int with_test = 0;
  for (std::string line; std::getline(metrics, line);) {
    with_test += nlohmann::json::parse(line).contains("test_top1");
  }
  EXPECT_EQ(with_test, 6);  // one epoch per stage: every line is a stage's last

  const StageRecord& last = manifest.stages.back();
  const std::string flags = "--threads 2 eval --json --checkpoint " + run +
                            "/checkpoints/c1-w1a1.pt " + test::tiny_spec_flags(run) +
                            " --set data.val_split=100";
  auto test_split = run_ctmq(flags + " --split test");
  ASSERT_EQ(test_split.exit_code, 0) << test_split.output;
  auto scored = nlohmann::json::parse(test_split.output.substr(test_split.output.find('{')));
  EXPECT_EQ(scored["images"], 128);
  EXPECT_NEAR(scored["top1"].get<double>(), last.test_metrics->top1, 1e-9);
  auto val_split = run_ctmq(flags + " --split val");
  ASSERT_EQ(val_split.exit_code, 0) << val_split.output;
  scored = nlohmann::json::parse(val_split.output.substr(val_split.output.find('{')));
  EXPECT_EQ(scored["images"], 100);
  EXPECT_NEAR(scored["top1"].get<double>(), last.final_metrics->val_top1, 1e-9);
  auto limited = run_ctmq(flags + " --split val --limit 10");
  EXPECT_EQ(limited.exit_code, 2) << limited.output;
  EXPECT_NE(limited.output.find("data.val_split"), std::string::npos) << limited.output;
  // "0 = all" holds for the held-out split too; a negative limit is a usage error.
  auto all = run_ctmq(flags + " --split val --limit 0");
  ASSERT_EQ(all.exit_code, 0) << all.output;
  EXPECT_EQ(nlohmann::json::parse(all.output.substr(all.output.find('{')))["images"], 100);
  auto negative = run_ctmq(flags + " --split test --limit -5");
  EXPECT_EQ(negative.exit_code, 2) << negative.output;
  EXPECT_NE(negative.output.find("--limit"), std::string::npos) << negative.output;

  auto report = run_ctmq("report --run " + run);
  ASSERT_EQ(report.exit_code, 0) << report.output;
  EXPECT_NE(report.output.find("test Top-1"), std::string::npos) << report.output;
}

TEST_F(DistillationRun, ResumeWithATeacherIsBitExact) {
  TempDir dir("distill-resume");
  auto overrides = [](const std::string& run) {
    auto all = tiny_spec_overrides(run);
    for (const char* extra : {"distill.teacher=accurate", "steps.bits=[1]", "steps.epochs=2",
                              "cycles.count=0", "distill.temperature=2", "distill.weight=0.8"}) {
      all.push_back(extra);
    }
    return all;
  };
  const std::string first = dir / "first", second = dir / "second";
  ASSERT_EQ(train_in_process(overrides(first), {}), 0);
  // Pretraining takes 4 steps; step 7 is the third step of the student's first epoch.
  EXPECT_EQ(train_in_process(overrides(second), {std::make_shared<StopAfterSteps>(7)}),
            128 + SIGTERM);
  EXPECT_TRUE(std::filesystem::exists(second + "/resume/c0-w1a1.pt"));
  ASSERT_EQ(train_in_process(overrides(second), {}), 0);

  EXPECT_EQ(read_file(second + "/metrics.jsonl"), read_file(first + "/metrics.jsonl"));
  const Checkpoint a = load_checkpoint(first + "/checkpoints/c0-w1a1.pt");
  const Checkpoint b = load_checkpoint(second + "/checkpoints/c0-w1a1.pt");
  ASSERT_EQ(a.state.size(), b.state.size());
  for (const auto& [name, tensor] : a.state) {
    EXPECT_TRUE(torch::equal(tensor, b.state.at(name))) << name;
  }
}

}  // namespace
}  // namespace ctmq
