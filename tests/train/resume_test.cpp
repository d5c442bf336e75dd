// Resume states written before the stage loop became state plus observers (commit 267676e)
// load with the current code and continue exactly where they stopped.

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/train/resume.h"
#include "run_fixture.h"
#include "support/prerequisite.h"

namespace ctmq {
namespace {

using test::run_ctmq;
using test::TempDir;

TEST(ResumeCompat, RunStoppedByAnOlderVersionFinishesWithItsUninterruptedMetrics) {
  CTMQ_REQUIRE(test::fashion_mnist_available(), "dataset-fashion-mnist");
  const std::string fixture =
      std::string(CTMQ_SOURCE_DIR) + "/tests/train/data/run-interrupted-267676e";
  TempDir dir("resume-compat");
  const std::string run = dir / "run";
  std::filesystem::copy(fixture, run, std::filesystem::copy_options::recursive);
  // The run's own spec.json, as its user would resume it (the embedded demo spec has changed
  // since). Pinned to the CPU: the fixture's state and metrics are CPU ones, and a CUDA build
  // would default to the GPU. The fixture was written on an AVX2-only CPU: the reproducible
  // numerics mode computes as such a CPU does on any other.
  auto resumed =
      run_ctmq("--numerics reproducible --device cpu --threads 2 train --resume --config " + run +
               "/spec.json --set output_dir=" + run + " --set data.root=" CTMQ_FASHION_MNIST_DIR);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("pretrain: resuming at epoch 2, step 2"), std::string::npos)
      << resumed.output;
  const std::string resumed_metrics = read_file(run + "/metrics.jsonl");
  const std::string uninterrupted = read_file(fixture + "/uninterrupted-metrics.jsonl");
#if TORCH_VERSION_MAJOR < 2
  // The fixture's LibTorch: every number is the uninterrupted run's, to the bit.
  EXPECT_EQ(resumed_metrics, uninterrupted);
#else
  // Another LibTorch computes the same steps with other kernels: the resumed epoch's training
  // loss (two steps with the restored momentum) is the 1.13 run's to float round-off, where the
  // momentum 2.x's own optimizer archive would have restored (every parameter given one
  // parameter's buffer) stops the run. Later epochs, at 1 bit, amplify round-off: not compared.
  auto epoch_line = [](const std::string& text, int line) {
    std::istringstream lines(text);
    std::string current;
    for (int i = 0; i <= line; ++i) std::getline(lines, current);
    return nlohmann::json::parse(current);
  };
  const auto got = epoch_line(resumed_metrics, 1), want = epoch_line(uninterrupted, 1);
  EXPECT_EQ(got.at("stage"), "pretrain");
  EXPECT_EQ(got.at("epoch"), 2);
  EXPECT_NEAR(got.at("train_loss").get<double>(), want.at("train_loss").get<double>(), 1e-5);
  EXPECT_EQ(got.at("train_top1"), want.at("train_top1"));
#endif
}

// A state's optimizer buffers stay on the device they were saved from: a state written on one
// kind of device is refused on another, naming the file and the flag that resumes it; states
// from before the device was recorded (like the fixture above) pass.
TEST(ResumeDevice, AnotherDeviceTypeIsRefusedNamingTheFileAndTheFlag) {
  StageProgress progress;
  progress.device_type = "cuda";
  try {
    check_resume_device(progress, torch::kCPU, "run/resume/pretrain.pt");
    FAIL() << "a CUDA state was accepted on the CPU";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("run/resume/pretrain.pt"), std::string::npos) << message;
    EXPECT_NE(message.find("--device cuda"), std::string::npos) << message;
  }
  EXPECT_NO_THROW(check_resume_device(progress, torch::Device(torch::kCUDA, 0), "p"));
  progress.device_type = "cpu";
  EXPECT_NO_THROW(check_resume_device(progress, torch::kCPU, "p"));
  progress.device_type.clear();
  EXPECT_NO_THROW(check_resume_device(progress, torch::kCPU, "p"));
}

TEST(ResumeDevice, TheDeviceTypeTravelsThroughTheProgressJson) {
  StageProgress progress;
  progress.device_type = "cuda";
  EXPECT_EQ(stage_progress_from_json(to_json(progress)).device_type, "cuda");
  progress.device_type.clear();
  auto doc = to_json(progress);
  EXPECT_FALSE(doc.contains("device"));
  EXPECT_TRUE(stage_progress_from_json(doc).device_type.empty());
}

}  // namespace
}  // namespace ctmq
