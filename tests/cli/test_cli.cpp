// Feeds valid and invalid command lines to the real binary (as llama.cpp's arg-parser test does).

#include <gtest/gtest.h>

#include <fstream>

#include "run_ctmq.h"

namespace ctmq {
namespace {

using testing::run_ctmq;

const std::string kSpecs = std::string(CTMQ_SOURCE_DIR) + "/data/specs/";

TEST(Cli, HelpListsEverySubcommand) {
  auto result = run_ctmq("--help");
  EXPECT_EQ(result.exit_code, 0);
  for (const char* name : {"train", "pretrain", "steps", "cycle", "eval", "plan", "inspect", "data",
                           "export", "bench", "report", "spec"}) {
    EXPECT_NE(result.output.find(name), std::string::npos) << name;
  }
  EXPECT_EQ(run_ctmq("train --help").exit_code, 0);
  EXPECT_EQ(run_ctmq("bench train --help").exit_code, 0);
  EXPECT_EQ(run_ctmq("bench allreduce --help").exit_code, 0);
}

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run_ctmq("").exit_code, 2);
  EXPECT_EQ(run_ctmq("frobnicate").exit_code, 2);
  EXPECT_EQ(run_ctmq("plan --no-such-flag").exit_code, 2);
  auto threads = run_ctmq("--threads -3 plan");
  EXPECT_EQ(threads.exit_code, 2);
  EXPECT_NE(threads.output.find("--threads"), std::string::npos) << threads.output;
  auto device = run_ctmq("--device tpu plan");
  EXPECT_EQ(device.exit_code, 2);
  EXPECT_NE(device.output.find("--device"), std::string::npos) << device.output;
  auto level = run_ctmq("--log-level loud plan");
  EXPECT_EQ(level.exit_code, 2);
  EXPECT_NE(level.output.find("--log-level"), std::string::npos) << level.output;
  EXPECT_EQ(run_ctmq("eval").exit_code, 2);  // needs --checkpoint or --exported
}

TEST(Cli, BenchAllReduceNeedsSeveralProcessesAndValidFlags) {
  auto alone = run_ctmq("bench allreduce --params 1000");
  EXPECT_EQ(alone.exit_code, 2);
  EXPECT_NE(alone.output.find("WORLD_SIZE"), std::string::npos) << alone.output;
  EXPECT_EQ(run_ctmq("bench allreduce --params 0").exit_code, 2);
  EXPECT_EQ(run_ctmq("bench allreduce --dist-backend mpi").exit_code, 2);
}

TEST(Cli, PlanPrintsEveryShippedSpec) {
  auto demo = run_ctmq("plan");
  EXPECT_EQ(demo.exit_code, 0) << demo.output;
  EXPECT_NE(demo.output.find("c1-w1a1"), std::string::npos) << demo.output;
  auto full = run_ctmq("plan --config " + kSpecs + "fmnist-resnet20-w1a1.json");
  EXPECT_EQ(full.exit_code, 0) << full.output;
  EXPECT_NE(full.output.find("c2-w1a1"), std::string::npos);
  EXPECT_NE(full.output.find("15 stages"), std::string::npos) << full.output;
  // The ImageNet spec names a cluster path; the plan itself needs no data.
  auto imagenet =
      run_ctmq("plan --config " + kSpecs + "imagenet-resnet18-w1a1.json --set data.root=/tmp");
  EXPECT_EQ(imagenet.exit_code, 0) << imagenet.output;
  auto json = run_ctmq("plan --json --set cycles.count=0 --set steps.bits=[1]");
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_NE(json.output.find("\"id\": \"c0-w1a1\""), std::string::npos) << json.output;
}

TEST(Cli, SpecErrorsNameThePathAndExitTwo) {
  auto result = run_ctmq("plan --set steps.bits=[4,5] --set optimizer.lr=0");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("/optimizer/lr"), std::string::npos) << result.output;
  auto missing = run_ctmq("plan --config /no/such.json");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("/no/such.json"), std::string::npos) << missing.output;
  auto root = run_ctmq("plan --set data.root=/no/such/dir");
  EXPECT_EQ(root.exit_code, 2);
  EXPECT_NE(root.output.find("/data/root"), std::string::npos) << root.output;
}

TEST(Cli, SpecCommandDumpsResolvedSpecAndDoc) {
  auto dumped = run_ctmq("spec --set seed=7");
  EXPECT_EQ(dumped.exit_code, 0);
  EXPECT_NE(dumped.output.find("\"seed\": 7"), std::string::npos) << dumped.output;
  auto doc = run_ctmq("spec --doc");
  EXPECT_EQ(doc.exit_code, 0);
  EXPECT_NE(doc.output.find("`steps.bits`"), std::string::npos);
}

}  // namespace
}  // namespace ctmq
