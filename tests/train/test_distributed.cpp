// Data-parallel training with real processes on 127.0.0.1 (Gloo), launched the way torchrun
// launches them: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

#include "ctmq/io/checkpoint.h"
#include "run_fixture.h"

namespace ctmq {
namespace {

using testing::run_ctmq;
using testing::TempDir;
using testing::tiny_spec_flags;

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

struct RankResults {
  int exit0 = -1, exit1 = -1;
  std::string log0, log1;
};

/// Runs `ctmq <args>` as ranks 0 and 1 of one job; `rank1_env` is extra environment for rank 1.
/// The ranks are pinned to the CPU and Gloo: on a CUDA build both would otherwise share one GPU.
RankResults run_two_ranks(const TempDir& dir, const std::string& args,
                          const std::string& rank1_env = "", const std::string& tag = "run") {
  const int port = free_port();
  const std::string log0 = dir / (tag + "-rank0.log"), log1 = dir / (tag + "-rank1.log");
  const std::string common =
      "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " timeout 300 " +
      CTMQ_BINARY + " --device cpu " + args + " --dist-backend gloo";
  const std::string script = "RANK=0 LOCAL_RANK=0 " + common + " > " + log0 + " 2>&1 & p0=$!; " +
                             "RANK=1 LOCAL_RANK=1 " + rank1_env + " " + common + " > " + log1 +
                             " 2>&1 & p1=$!; wait $p0; e0=$?; wait $p1; e1=$?; echo $e0 $e1 > " +
                             (dir / (tag + "-exit"));
  std::system(("bash -c '" + script + "'").c_str());
  RankResults results;
  std::ifstream(dir / (tag + "-exit")) >> results.exit0 >> results.exit1;
  results.log0 = read_file(log0);
  results.log1 = read_file(log1);
  return results;
}

std::vector<std::string> checksums(const std::string& log) {
  std::vector<std::string> found;
  std::regex pattern("weights checksum (\\S+)");
  for (std::sregex_iterator it(log.begin(), log.end(), pattern), end; it != end; ++it) {
    found.push_back((*it)[1]);
  }
  return found;
}

class DistributedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::fashion_mnist_available()) GTEST_SKIP() << "dataset-fashion-mnist missing";
  }
};

TEST_F(DistributedTest, TwoRanksMatchOneProcessWithTheCombinedBatch) {
  TempDir dir("dist");
  // Pretraining only, sync BatchNorm: 2 x 32 images per step against 1 x 64.
  const std::string plan =
      " --set steps.bits=[1] --set steps.epochs=0 --set cycles.count=0 --set model.sync_bn=true"
      " --set data.augment=false --set optimizer.momentum=0 --set optimizer.lr=0.01";
  auto two = run_two_ranks(dir, "--threads 1 train " + tiny_spec_flags(dir / "two") + plan +
                                    " --set data.batch_size=32 --dist-timeout 60");
  ASSERT_EQ(two.exit0, 0) << two.log0 << two.log1;
  ASSERT_EQ(two.exit1, 0) << two.log1;
  EXPECT_NE(two.log0.find("rank 0/2 (torchrun)"), std::string::npos) << two.log0;
  EXPECT_NE(two.log0.find("global batch 64"), std::string::npos) << two.log0;
  // Both ranks end every stage with the same weights.
  EXPECT_FALSE(checksums(two.log0).empty());
  EXPECT_EQ(checksums(two.log0), checksums(two.log1));
  // Only rank 0 writes.
  EXPECT_TRUE(std::filesystem::exists(dir / "two/checkpoints/pretrain.pt"));

  auto one = run_ctmq("--device cpu --threads 1 train " + tiny_spec_flags(dir / "one") + plan +
                      " --set data.batch_size=64");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  Checkpoint a = load_checkpoint(dir / "two/checkpoints/pretrain.pt");
  Checkpoint b = load_checkpoint(dir / "one/checkpoints/pretrain.pt");
  ASSERT_EQ(a.state.size(), b.state.size());
  // Float sums in another order (per rank, then across ranks) differ in the last bits, and this
  // network amplifies that: one process run with 1 and then 2 threads differs by ~1e-3 (relative
  // L2) in the stem weights after these 4 steps; two ranks against one process measured 7e-3
  // for the whole state. So: the whole state within 1e-2, every tensor within 5% (a missing or
  // wrong all-reduce is off by tens of percent).
  double distance2 = 0.0, norm2 = 0.0;
  for (const auto& [name, tensor] : a.state) {
    const torch::Tensor& other = b.state.at(name);
    if (!tensor.is_floating_point()) {
      EXPECT_TRUE(torch::equal(tensor, other)) << name;
      continue;
    }
    const double distance = (tensor - other).norm().item<double>();
    const double norm = other.norm().item<double>();
    EXPECT_LE(distance, 0.05 * norm + 1e-3) << name;
    distance2 += distance * distance;
    norm2 += norm * norm;
  }
  EXPECT_LE(std::sqrt(distance2), 1e-2 * std::sqrt(norm2));
  // Validation metrics are reduced over both ranks' shards: the same images are scored.
  EXPECT_NEAR(a.meta["final"]["val_top1"].get<double>(), b.meta["final"]["val_top1"].get<double>(),
              2.5);  // 128 images: up to 3 of them may flip
}

TEST_F(DistributedTest, StopOnOneRankStopsBothAndTheRunResumes) {
  TempDir dir("dist-resume");
  const std::string args = "--threads 1 train " + tiny_spec_flags(dir / "run") +
                           " --set steps.bits=[1] --set cycles.count=0 --dist-timeout 60";
  auto stopped = run_two_ranks(dir, args, "CTMQ_TEST_STOP_AT_STEP=3", "first");
  EXPECT_EQ(stopped.exit0, 143) << stopped.log0;
  EXPECT_EQ(stopped.exit1, 143) << stopped.log1;
  // Each rank has 128 images in batches of 64: step 3 is the first step of c0-w1a1.
  EXPECT_TRUE(std::filesystem::exists(dir / "run/checkpoints/pretrain.pt"));
  EXPECT_TRUE(std::filesystem::exists(dir / "run/resume/c0-w1a1.pt"));
  auto resumed = run_two_ranks(dir, args, "", "second");
  ASSERT_EQ(resumed.exit0, 0) << resumed.log0;
  ASSERT_EQ(resumed.exit1, 0) << resumed.log1;
  EXPECT_NE(resumed.log0.find("c0-w1a1: resuming at epoch 1, step 1"), std::string::npos)
      << resumed.log0;
  EXPECT_TRUE(std::filesystem::exists(dir / "run/checkpoints/c0-w1a1.pt"));
  EXPECT_EQ(checksums(resumed.log0), checksums(resumed.log1));
}

TEST_F(DistributedTest, AKilledRankMakesTheOtherFailInBoundedTime) {
  TempDir dir("dist-kill");
  const int port = free_port();
  const std::string common =
      "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " " + CTMQ_BINARY +
      " --device cpu --threads 1 train " + tiny_spec_flags(dir / "run") +
      " --set pretrain.epochs=50 --dist-timeout 20 --dist-backend gloo";
  // Rank 1 is killed with SIGKILL once it is training; rank 0 must fail, not hang.
  const std::string script =
      "RANK=0 " + common + " > " + (dir / "r0.log") + " 2>&1 & p0=$!; RANK=1 " + common + " > " +
      (dir / "r1.log") + " 2>&1 & p1=$!; for i in $(seq 600); do grep -q \"step\\|epoch 1/\" " +
      (dir / "r0.log") +
      " && break; sleep 0.1; done; kill -9 $p1; start=$(date +%s); wait $p0; e0=$?; "
      "echo $e0 $(( $(date +%s) - start )) > " +
      (dir / "exit");
  std::system(("bash -c '" + script + "'").c_str());
  int exit0 = -1, seconds = -1;
  std::ifstream(dir / "exit") >> exit0 >> seconds;
  EXPECT_NE(exit0, 0) << read_file(dir / "r0.log");
  EXPECT_LT(seconds, 20 + 60) << "rank 0 took too long to notice";
  EXPECT_NE(read_file(dir / "r0.log").find("rank"), std::string::npos);
}

}  // namespace
}  // namespace ctmq
