// A stop request during the end-of-stage test pass (data.val_split) ends the pass at its next
// batch: the stage stays unfinished with its training saved, and a rerun scores the test split
// again without training anything twice.

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <string>

#include "ctmq/io/manifest.h"
#include "in_process_run.h"
#include "run_fixture.h"

namespace ctmq {
namespace {

using test::TempDir;
using test::tiny_spec_overrides;
using test::train_in_process;

/// Raises SIGTERM when pretraining's last epoch has ended: the test pass comes next.
class StopBeforeTestPass : public TrainingObserver {
 public:
  void on_epoch_end(StageRun& run, const EpochMetrics& metrics) override {
    if (run.stage().id == "pretrain" && metrics.epoch == run.stage().epochs) {
      std::raise(SIGTERM);
    }
  }
};

/// Counts the training steps taken, to show that the rerun trains only what was left.
class StepCounter : public TrainingObserver {
 public:
  void on_step_end(StageRun& run) override { ++steps_of[run.stage().id]; }
  std::map<std::string, int> steps_of;
};

class StopDuringTestPass : public test::FashionMnistTest {};

TEST_F(StopDuringTestPass, StopsAtOnceAndTheRerunScoresTheTestSplitAgain) {
  TempDir dir("stop-test-pass");
  auto overrides = [](const std::string& run) {
    auto all = tiny_spec_overrides(run);
    for (const char* extra : {"data.val_split=64", "steps.bits=[1]", "cycles.count=0"}) {
      all.push_back(extra);
    }
    return all;
  };
  const std::string reference = dir / "reference", stopped = dir / "stopped";
  ASSERT_EQ(train_in_process(overrides(reference), {}), 0);

  ASSERT_EQ(train_in_process(overrides(stopped), {std::make_shared<StopBeforeTestPass>()}),
            128 + SIGTERM);
  const Manifest interrupted = load_manifest(RunPaths{stopped});
  const StageRecord& pretrain = interrupted.stages.at(0);
  EXPECT_NE(pretrain.status, StageStatus::kDone);
  EXPECT_FALSE(pretrain.test_metrics) << "the test pass ran to its end";
  EXPECT_EQ(pretrain.epochs_done, 1);
  EXPECT_TRUE(std::filesystem::exists(stopped + "/resume/pretrain.pt"));
  EXPECT_FALSE(std::filesystem::exists(stopped + "/checkpoints/pretrain.pt"));
  EXPECT_NE(interrupted.stages.at(1).status, StageStatus::kRunning);

  auto counter = std::make_shared<StepCounter>();
  ASSERT_EQ(train_in_process(overrides(stopped), {counter}), 0);
  EXPECT_EQ(counter->steps_of.count("pretrain"), 0u) << "pretraining was trained again";
  EXPECT_EQ(counter->steps_of["c0-w1a1"], 4);
  EXPECT_EQ(read_file(stopped + "/metrics.jsonl"), read_file(reference + "/metrics.jsonl"));
  EXPECT_TRUE(load_manifest(RunPaths{stopped}).stages.at(0).test_metrics);
}

}  // namespace
}  // namespace ctmq
