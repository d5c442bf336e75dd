// End-to-end: the whole CTMQ plan through `ctmq train` on a tiny slice of Fashion-MNIST.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "ctmq/io/checkpoint.h"
#include "ctmq/io/manifest.h"
#include "in_process_run.h"
#include "run_fixture.h"
#include "support/prerequisite.h"

namespace ctmq {
namespace {

using test::run_ctmq;
using test::StopAfterSteps;
using test::TempDir;
using test::tiny_spec_flags;
using test::tiny_spec_overrides;
using test::train_in_process;

const std::vector<std::string> kStages{"pretrain", "c0-w2a2", "c0-w1a1",
                                       "c1-fp",    "c1-w2a2", "c1-w1a1"};

class ExperimentTest : public test::FashionMnistTest {};

TEST_F(ExperimentTest, WholePlanLeavesACheckpointPerStageAndEvalAgrees) {
  TempDir dir("plan");
  const std::string run = dir / "run";
  auto result = run_ctmq("--threads 2 train " + tiny_spec_flags(run));
  ASSERT_EQ(result.exit_code, 0) << result.output;

  Manifest manifest = load_manifest(RunPaths{run});
  ASSERT_EQ(manifest.stages.size(), kStages.size());
  for (size_t i = 0; i < kStages.size(); ++i) {
    const StageRecord& record = manifest.stages[i];
    EXPECT_EQ(record.stage.id, kStages[i]);
    EXPECT_EQ(record.status, StageStatus::kDone);
    EXPECT_EQ(record.epochs_done, 1);
    EXPECT_EQ(record.history.size(), 1u);
    EXPECT_TRUE(std::filesystem::exists(run + "/checkpoints/" + kStages[i] + ".pt"));
    EXPECT_FALSE(std::filesystem::exists(run + "/resume/" + kStages[i] + ".pt"));
    ASSERT_TRUE(record.final_metrics.has_value());
    double top1 = record.final_metrics->val_top1;
    EXPECT_GE(top1, 0.0);
    EXPECT_LE(top1, 100.0);
  }
  EXPECT_TRUE(std::filesystem::exists(run + "/spec.json"));
  EXPECT_TRUE(std::filesystem::exists(run + "/train.log"));
  {  // The log keeps what changes the numbers beside the spec: the threads (and device).
    std::ifstream log(run + "/train.log");
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find(" | threads 2 | rank 0/1"), std::string::npos) << text.substr(0, 400);
  }
  std::ifstream metrics(run + "/metrics.jsonl");
  int lines = 0;
  for (std::string line; std::getline(metrics, line);) {
    auto entry = nlohmann::json::parse(line);
    EXPECT_EQ(entry["stage"], kStages[lines]);
    EXPECT_EQ(entry["cumulative_epoch"], lines + 1);
    ++lines;
  }
  EXPECT_EQ(lines, 6);

  // The pretrained model must have learned something on 256 images in one epoch.
  EXPECT_GT(manifest.stages[0].final_metrics->val_top1, 20.0);

  // Checkpoint metadata and eval agree with the manifest.
  Checkpoint last = load_checkpoint(run + "/checkpoints/c1-w1a1.pt");
  EXPECT_EQ(last.meta["stage"], "c1-w1a1");
  EXPECT_EQ(last.meta["w_bits"], 1);
  EXPECT_EQ(last.meta["cycle"], 1);
  EXPECT_EQ(last.meta["spec_hash"], manifest.spec_hash);
  auto eval = run_ctmq("--threads 2 eval --json --checkpoint " + run + "/checkpoints/c1-w1a1.pt " +
                       tiny_spec_flags(run));
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  auto scored = nlohmann::json::parse(eval.output.substr(eval.output.find('{')));
  EXPECT_EQ(scored["images"], 128);
  EXPECT_NEAR(scored["top1"].get<double>(), manifest.stages.back().final_metrics->val_top1, 1e-9);
  EXPECT_NEAR(scored["top5"].get<double>(), manifest.stages.back().final_metrics->val_top5, 1e-9);
  // Without --config, a run's checkpoint is scored on the data of the run's own spec.json, not
  // on the embedded demo spec's (whose validation split is 1,000 held-out training images).
  auto own_spec =
      run_ctmq("--threads 2 eval --json --checkpoint " + run + "/checkpoints/c1-w1a1.pt");
  ASSERT_EQ(own_spec.exit_code, 0) << own_spec.output;
  EXPECT_NE(own_spec.output.find(run + "/spec.json"), std::string::npos) << own_spec.output;
  auto own = nlohmann::json::parse(own_spec.output.substr(own_spec.output.find('{')));
  EXPECT_EQ(own["images"], 128);
  EXPECT_NEAR(own["top1"].get<double>(), manifest.stages.back().final_metrics->val_top1, 1e-9);

  auto inspect = run_ctmq("inspect " + run + "/checkpoints/c0-w2a2.pt");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_NE(inspect.output.find("\"c0-w2a2\""), std::string::npos) << inspect.output;
  EXPECT_NE(inspect.output.find("parameters in total"), std::string::npos);

  auto report = run_ctmq("report --run " + run);
  ASSERT_EQ(report.exit_code, 0) << report.output;
  EXPECT_NE(report.output.find("| c1-w1a1 | 1/1 | 1/1 | done |"), std::string::npos)
      << report.output;
  EXPECT_GT(std::filesystem::file_size(run + "/report.png"), 1000u);
  EXPECT_TRUE(std::filesystem::exists(run + "/report.md"));
  // Several runs, one row each; two runs of one spec are told apart by their directories.
  const std::string twin = run + "-twin";
  std::filesystem::remove_all(twin);
  std::filesystem::copy(run, twin, std::filesystem::copy_options::recursive);
  auto runs = run_ctmq("report --runs " + run + " " + twin);
  ASSERT_EQ(runs.exit_code, 0) << runs.output;
  EXPECT_NE(runs.output.find("(" + run + ") | c1-w1a1 | 1/1 |"), std::string::npos) << runs.output;
  EXPECT_NE(runs.output.find("(" + twin + ") | c1-w1a1 | 1/1 |"), std::string::npos) << runs.output;
  auto missing = run_ctmq("report --runs " + run + " " + run + "-nowhere");
  EXPECT_NE(missing.exit_code, 0) << missing.output;
  EXPECT_NE(missing.output.find(run + "-nowhere"), std::string::npos) << missing.output;
  std::filesystem::remove_all(twin);

  // Running the same command again trains nothing.
  auto mtime = std::filesystem::last_write_time(run + "/checkpoints/pretrain.pt");
  auto again = run_ctmq("--threads 2 train " + tiny_spec_flags(run));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("already done"), std::string::npos) << again.output;
  EXPECT_EQ(std::filesystem::last_write_time(run + "/checkpoints/pretrain.pt"), mtime);

  // A different spec may not reuse the directory.
  auto other = run_ctmq("train " + tiny_spec_flags(run) + " --set steps.epochs=2");
  EXPECT_EQ(other.exit_code, 2) << other.output;
  EXPECT_NE(other.output.find("--force"), std::string::npos) << other.output;

  // Python reads a checkpoint with plain torch.load, weights-only too (PyTorch 2.6's default).
  CTMQ_REQUIRE(test::python_has_torch(), "python3-torch (" + test::python_with_torch() + ")");
  for (const char* arguments : {"", ", weights_only=True"}) {
    std::string script = "import torch, json; d = torch.load('" + run + "/checkpoints/c1-w1a1.pt'" +
                         arguments +
                         "); "
                         "assert d['format'] == 'ctmq-checkpoint'; "
                         "m = json.loads(d['meta']); assert m['stage'] == 'c1-w1a1'; "
                         "assert all(isinstance(t, torch.Tensor) for t in d['state'].values()); "
                         "print(len(d['state']))";
    EXPECT_EQ(std::system((test::python_with_torch() + " -c \"" + script + "\"").c_str()), 0)
        << arguments;
  }
}

TEST_F(ExperimentTest, SameSeedGivesIdenticalMetricsAndInterruptedRunResumesExactly) {
  TempDir dir("resume");
  // Pinned to the CPU: a CUDA build would default to the GPU, where runs are not bit-exact.
  const std::string flags = " --set pretrain.epochs=2 --set steps.bits=[1] --set cycles.count=0";
  const std::string first = dir / "first", second = dir / "second", third = dir / "third";
  ASSERT_EQ(run_ctmq("--device cpu --threads 2 train " + tiny_spec_flags(first) + flags).exit_code,
            0);

  // Stopped by SIGTERM at the end of the first epoch (step 4 of 4), then resumed. The stopped
  // runs train in this process, where the test adds the observer that raises the signal.
  install_stop_handlers();
  torch::set_num_threads(2);
  auto overrides = [&](const std::string& run) {
    auto all = tiny_spec_overrides(run);
    for (const char* extra : {"pretrain.epochs=2", "steps.bits=[1]", "cycles.count=0"}) {
      all.push_back(extra);
    }
    return all;
  };
  EXPECT_EQ(train_in_process(overrides(second), {std::make_shared<StopAfterSteps>(4)}),
            128 + SIGTERM);
  EXPECT_TRUE(std::filesystem::exists(second + "/resume/pretrain.pt"));
  auto resumed =
      run_ctmq("--device cpu --threads 2 train --resume " + tiny_spec_flags(second) + flags);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming at epoch"), std::string::npos) << resumed.output;

  // Stopped in the middle of an epoch (step 6: epoch 2, batch 2), then resumed.
  EXPECT_EQ(train_in_process(overrides(third), {std::make_shared<StopAfterSteps>(6)}),
            128 + SIGTERM);
  ASSERT_EQ(run_ctmq("--device cpu --threads 2 train " + tiny_spec_flags(third) + flags).exit_code,
            0);

  std::string reference = read_file(first + "/metrics.jsonl");
  EXPECT_EQ(read_file(second + "/metrics.jsonl"), reference);
  EXPECT_EQ(read_file(third + "/metrics.jsonl"), reference);
  for (const char* stage : {"pretrain", "c0-w1a1"}) {
    Checkpoint a = load_checkpoint(first + "/checkpoints/" + stage + ".pt");
    for (const std::string& other : {second, third}) {
      Checkpoint b = load_checkpoint(other + "/checkpoints/" + stage + ".pt");
      ASSERT_EQ(a.state.size(), b.state.size());
      for (const auto& [name, tensor] : a.state) {
        EXPECT_TRUE(torch::equal(tensor, b.state.at(name))) << stage << " " << name;
      }
    }
  }
}

TEST_F(ExperimentTest, PhasesRunAsSeparateCommands) {
  TempDir dir("phases");
  const std::string run = dir / "run";
  ASSERT_EQ(run_ctmq("--threads 2 pretrain " + tiny_spec_flags(run)).exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(run + "/checkpoints/pretrain.pt"));
  EXPECT_FALSE(std::filesystem::exists(run + "/checkpoints/c0-w2a2.pt"));
  const std::string manifest = read_file(run + "/manifest.json");
  auto cycle_first = run_ctmq("cycle " + tiny_spec_flags(run));
  EXPECT_EQ(cycle_first.exit_code, 1) << cycle_first.output;
  EXPECT_NE(cycle_first.output.find("c0-w1a1, which is not trained"), std::string::npos)
      << cycle_first.output;
  EXPECT_EQ(read_file(run + "/manifest.json"), manifest);
  ASSERT_EQ(run_ctmq("--threads 2 steps " + tiny_spec_flags(run)).exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(run + "/checkpoints/c0-w1a1.pt"));
  EXPECT_FALSE(std::filesystem::exists(run + "/checkpoints/c1-fp.pt"));
  // The cyclic phase from an explicit checkpoint, into another run directory.
  const std::string other = dir / "other";
  auto cycle = run_ctmq("--threads 2 cycle --from " + run + "/checkpoints/c0-w1a1.pt " +
                        tiny_spec_flags(other));
  ASSERT_EQ(cycle.exit_code, 0) << cycle.output;
  EXPECT_TRUE(std::filesystem::exists(other + "/checkpoints/c1-w1a1.pt"));
  EXPECT_FALSE(std::filesystem::exists(other + "/checkpoints/pretrain.pt"));
}

TEST_F(ExperimentTest, DivergingLossStopsWithAClearError) {
  TempDir dir("nan");
  auto result = run_ctmq("train " + tiny_spec_flags(dir / "run") +
                         " --set optimizer.lr=1e30 --set optimizer.schedule=constant");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("loss became"), std::string::npos) << result.output;
  Manifest manifest = load_manifest(RunPaths{dir / "run"});
  EXPECT_EQ(manifest.stages[0].status, StageStatus::kFailed);
  // It diverges in its first epoch, before any resume state: the message claims none.
  EXPECT_FALSE(std::filesystem::exists(dir / "run/resume/pretrain.pt"));
  EXPECT_NE(result.output.find("No resume state was saved yet"), std::string::npos)
      << result.output;
}

TEST_F(ExperimentTest, AnOversizedValSplitFailsBeforeWritingTheRunDirectory) {
  TempDir dir("val-split-too-big");
  const std::string run = dir / "run";
  auto result = run_ctmq("train " + tiny_spec_flags(run) + " --set data.val_split=60000");
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_NE(result.output.find("val_split"), std::string::npos) << result.output;
  // Nothing written, so the corrected command needs no --force.
  EXPECT_FALSE(std::filesystem::exists(run + "/manifest.json"));
  EXPECT_FALSE(std::filesystem::exists(run + "/spec.json"));
}

TEST_F(ExperimentTest, MissingDataIsADataError) {
  TempDir dir("nodata");
  auto result = run_ctmq("train " + tiny_spec_flags(dir / "run") + " --set data.root=" + dir.str());
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_NE(result.output.find(dir.str()), std::string::npos) << result.output;
}

}  // namespace
}  // namespace ctmq
