// Resume states written before the stage loop became state plus observers (commit 267676e)
// load with the current code and continue exactly where they stopped.

#include <gtest/gtest.h>

#include <filesystem>

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
  // Pinned to the CPU: the fixture's state and metrics are CPU ones, and a CUDA build would
  // default to the GPU.
  auto resumed = run_ctmq("--device cpu --threads 2 train --resume " + test::tiny_spec_flags(run) +
                          " --set pretrain.epochs=2 --set steps.bits=[1] --set cycles.count=0");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("pretrain: resuming at epoch 2, step 2"), std::string::npos)
      << resumed.output;
  EXPECT_EQ(read_file(run + "/metrics.jsonl"), read_file(fixture + "/uninterrupted-metrics.jsonl"));
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
