// Resume states written before the stage loop became state plus observers (commit 267676e)
// load with the current code and continue exactly where they stopped.

#include <gtest/gtest.h>

#include <filesystem>

#include "ctmq/core/atomic_file.h"
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
  auto resumed = run_ctmq("--threads 2 train --resume " + test::tiny_spec_flags(run) +
                          " --set pretrain.epochs=2 --set steps.bits=[1] --set cycles.count=0");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("pretrain: resuming at epoch 2, step 2"), std::string::npos)
      << resumed.output;
  EXPECT_EQ(read_file(run + "/metrics.jsonl"), read_file(fixture + "/uninterrupted-metrics.jsonl"));
}

}  // namespace
}  // namespace ctmq
