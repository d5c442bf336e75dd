// The run record stays true through the journeys a user takes: the phases one by one, with and
// without --from, a retrained ancestor, a failing command, --force after an interruption under
// another spec. Each journey runs the real binary on the tiny Fashion-MNIST spec.

#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "ctmq/core/atomic_file.h"
#include "in_process_run.h"
#include "run_fixture.h"

namespace ctmq::test {
namespace {

namespace fs = std::filesystem;

// pretrain, c0-w1a1, c1-fp, c1-w1a1: the shortest plan with both phases and a cycle.
const std::string kShortPlan =
    " --set steps.bits=[1] --set cycles.ladder=target --set data.train_limit=128";

nlohmann::json manifest_of(const std::string& run) {
  return nlohmann::json::parse(read_file(run + "/manifest.json"));
}

nlohmann::json stage_of(const nlohmann::json& manifest, const std::string& id) {
  for (const auto& stage : manifest.at("stages")) {
    if (stage.at("id") == id) return stage;
  }
  ADD_FAILURE() << "no stage " << id;
  return nlohmann::json::object();
}

/// The SHA-256 `sha256sum` prints for `file`: an independent check of the recorded digests.
std::string sha256sum(const std::string& file) {
  const CommandResult result = run_command("sha256sum " + file);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return result.output.substr(0, 64);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class RunRecord : public FashionMnistTest {
 protected:
  static CommandResult ctmq(const std::string& command, const std::string& run,
                            const std::string& extra = "") {
    return run_ctmq("--threads 2 " + command + " " + tiny_spec_flags(run) + kShortPlan + extra);
  }
};

TEST_F(RunRecord, PhasesStartedFromCheckpointsKeepEveryOtherStagesRecord) {
  TempDir dir("record-from");
  const std::string run = dir / "run";
  ASSERT_EQ(ctmq("pretrain", run).exit_code, 0);
  const CommandResult steps =
      ctmq("steps", run, " --from " + run + "/checkpoints/pretrain.pt --force");
  ASSERT_EQ(steps.exit_code, 0) << steps.output;
  const CommandResult cycle =
      ctmq("cycle", run, " --cycle 1 --from " + run + "/checkpoints/c0-w1a1.pt");
  ASSERT_EQ(cycle.exit_code, 0) << cycle.output;

  const nlohmann::json record = manifest_of(run);
  for (const char* id : {"pretrain", "c0-w1a1", "c1-fp", "c1-w1a1"}) {
    const nlohmann::json stage = stage_of(record, id);
    EXPECT_EQ(stage.at("status"), "done") << id;
    EXPECT_EQ(stage.at("checkpoint"), std::string("checkpoints/") + id + ".pt") << id;
    EXPECT_EQ(stage.at("lineage").at("checkpoint_sha256"),
              sha256sum(run + "/checkpoints/" + id + ".pt"))
        << id;
  }
  // Each stage names what it started from, and the digest of that file as it started.
  const nlohmann::json c0 = stage_of(record, "c0-w1a1");
  EXPECT_EQ(c0.at("init_from"), "checkpoint:" + run + "/checkpoints/pretrain.pt");
  EXPECT_EQ(c0.at("lineage").at("init_sha256"), sha256sum(run + "/checkpoints/pretrain.pt"));
  EXPECT_EQ(stage_of(record, "c1-fp").at("lineage").at("init_sha256"),
            sha256sum(run + "/checkpoints/c0-w1a1.pt"));
  const std::string metrics = read_file(run + "/metrics.jsonl");
  EXPECT_TRUE(contains(metrics, "\"stage\":\"c0-w1a1\"")) << metrics;
  const CommandResult report = run_ctmq("report --run " + run);
  ASSERT_EQ(report.exit_code, 0) << report.output;
  EXPECT_FALSE(contains(report.output, "pending")) << report.output;
  EXPECT_FALSE(contains(report.output, "stale (")) << report.output;
}

TEST_F(RunRecord, AFailingCommandChangesNothingOnDisk) {
  TempDir dir("record-failing");
  const std::string run = dir / "run";
  // Nothing to start from: refused before the run directory is made.
  const CommandResult early = ctmq("cycle", run);
  EXPECT_EQ(early.exit_code, 1) << early.output;
  EXPECT_TRUE(contains(early.output, "c0-w1a1, which is not trained")) << early.output;
  EXPECT_FALSE(fs::exists(run));

  ASSERT_EQ(ctmq("pretrain", run).exit_code, 0);
  const std::string manifest = read_file(run + "/manifest.json");
  const std::string metrics = read_file(run + "/metrics.jsonl");
  const CommandResult cycle = ctmq("cycle", run, " --cycle 1");
  EXPECT_EQ(cycle.exit_code, 1) << cycle.output;
  const CommandResult beyond = ctmq("cycle", run, " --cycle 5");
  EXPECT_EQ(beyond.exit_code, 2) << beyond.output;
  EXPECT_TRUE(contains(beyond.output, "--cycle 5: the plan has cycles 1..1")) << beyond.output;
  EXPECT_EQ(read_file(run + "/manifest.json"), manifest);
  EXPECT_EQ(read_file(run + "/metrics.jsonl"), metrics);
}

TEST_F(RunRecord, ARetrainedAncestorMakesItsDescendantsStaleUntilTrainRetrainsThem) {
  TempDir dir("record-ancestor");
  const std::string run = dir / "run";
  ASSERT_EQ(ctmq("train", run).exit_code, 0);
  // Another seed retrains the pretraining: every later stage descends from the old one.
  const CommandResult again = ctmq("pretrain", run, " --set seed=2 --force");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  const nlohmann::json record = manifest_of(run);
  EXPECT_EQ(stage_of(record, "pretrain").at("status"), "done");
  const CommandResult plan =
      run_ctmq("plan " + tiny_spec_flags(run) + kShortPlan + " --set seed=2");
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_TRUE(contains(plan.output, "pretrain: done")) << plan.output;
  EXPECT_TRUE(contains(plan.output, "c0-w1a1: stale (trained under another spec")) << plan.output;
  const CommandResult report = run_ctmq("report --run " + run);
  EXPECT_TRUE(contains(report.output, "| c1-w1a1 | 1/1 | 1/1 | stale (")) << report.output;
  // A comparison of runs counts the stale stages as left to train.
  const CommandResult runs = run_ctmq("report --runs " + run);
  EXPECT_TRUE(contains(runs.output, "| 1/4 unfinished, 3 stale |")) << runs.output;

  // A phase on a stale start is refused, naming the stage and what to run.
  const CommandResult cycle = ctmq("cycle", run, " --set seed=2");
  EXPECT_EQ(cycle.exit_code, 1) << cycle.output;
  EXPECT_TRUE(contains(cycle.output, "c0-w1a1, which is stale")) << cycle.output;
  EXPECT_TRUE(contains(cycle.output, "ctmq steps")) << cycle.output;

  const CommandResult train = ctmq("train", run, " --set seed=2");
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_TRUE(contains(train.output, "stage pretrain already done")) << train.output;
  EXPECT_TRUE(contains(train.output, "stage c0-w1a1 trains again: stale")) << train.output;
  EXPECT_TRUE(contains(train.output, "stage c1-fp trains again: its start c0-w1a1 trains first"))
      << train.output;
  const nlohmann::json retrained = manifest_of(run);
  EXPECT_EQ(stage_of(retrained, "c0-w1a1").at("lineage").at("init_sha256"),
            sha256sum(run + "/checkpoints/pretrain.pt"));
  const CommandResult clean = run_ctmq("report --run " + run);
  EXPECT_FALSE(contains(clean.output, "stale (")) << clean.output;
}

TEST_F(RunRecord, ForceAfterAnInterruptionUnderAnotherSpecStartsTheStageAfresh) {
  TempDir dir("record-force");
  const std::string run = dir / "run", reference = dir / "reference";
  // Spec A, stopped in pretraining's second epoch (step 6 of 2 x 4).
  install_stop_handlers();
  torch::set_num_threads(2);
  std::vector<std::string> spec_a = tiny_spec_overrides(run);
  spec_a.push_back("pretrain.epochs=2");
  ASSERT_EQ(train_in_process(spec_a, {std::make_shared<StopAfterSteps>(6)}), 128 + SIGTERM);
  ASSERT_TRUE(fs::exists(run + "/resume/pretrain.pt"));

  // Spec B (other data) with --force: the state of spec A is not resumed.
  const std::string spec_b = " --set pretrain.epochs=2 --set data.train_limit=128";
  const CommandResult forced =
      run_ctmq("--threads 2 pretrain --force " + tiny_spec_flags(run) + spec_b);
  ASSERT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_TRUE(contains(forced.output, "this resume state was written under another spec"))
      << forced.output;
  EXPECT_FALSE(contains(forced.output, "resuming at")) << forced.output;
  // Exactly what spec B trains in a fresh directory.
  ASSERT_EQ(run_ctmq("--threads 2 pretrain " + tiny_spec_flags(reference) + spec_b).exit_code, 0);
  EXPECT_EQ(read_file(run + "/metrics.jsonl"), read_file(reference + "/metrics.jsonl"));
  EXPECT_EQ(stage_of(manifest_of(run), "pretrain").at("epochs_done"), 2);
}

}  // namespace
}  // namespace ctmq::test
