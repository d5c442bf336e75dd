// Data-parallel training with real processes on 127.0.0.1 (Gloo), launched the way torchrun
// launches them: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "ctmq/io/checkpoint.h"
#include "in_process_run.h"
#include "run_fixture.h"

namespace ctmq {
namespace {

using test::run_ctmq;
using test::TempDir;
using test::tiny_spec_flags;

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

/// Runs `ctmq <args>` as ranks 0 and 1 of one job; rank 1 runs `rank1_command` instead when
/// one is given. The ranks are pinned to the CPU and Gloo: on a CUDA build both would otherwise
/// share one GPU.
RankResults run_two_ranks(const TempDir& dir, const std::string& args,
                          const std::string& rank1_command = "", const std::string& tag = "run") {
  const int port = free_port();
  const std::string log0 = dir / (tag + "-rank0.log"), log1 = dir / (tag + "-rank1.log");
  const std::string env =
      "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " timeout 300 ";
  const std::string ctmq =
      std::string(CTMQ_BINARY) + " --device cpu " + args + " --dist-backend gloo";
  const std::string script =
      "RANK=0 LOCAL_RANK=0 " + env + ctmq + " > " + log0 + " 2>&1 & p0=$!; " +
      "RANK=1 LOCAL_RANK=1 " + env + (rank1_command.empty() ? ctmq : rank1_command) + " > " + log1 +
      " 2>&1 & p1=$!; wait $p0; e0=$?; wait $p1; e1=$?; echo $e0 $e1 > " + (dir / (tag + "-exit"));
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

class DistributedTest : public test::FashionMnistTest {};

/// The pretraining stage of the tiny spec as `steps` SGD steps of 64 images in all, sync
/// BatchNorm on, no augmentation, no weight decay, lr 0.1 throughout.
std::string exact_step_flags(int steps, double momentum) {
  return " --set seed=2 --set data.train_limit=" + std::to_string(64 * steps) +
         " --set data.val_limit=64 --set steps.bits=[1] --set steps.epochs=0"
         " --set cycles.count=0 --set model.sync_bn=true --set data.augment=false"
         " --set optimizer.weight_decay=0 --set optimizer.schedule=constant"
         " --set optimizer.lr=0.1 --set optimizer.momentum=" +
         std::to_string(momentum);
}

/// Largest |a - b| over the largest |b|, for each tensor (of updates or of buffers).
std::map<std::string, double> relative_differences(const StateDict& a, const StateDict& b) {
  std::map<std::string, double> differences;
  for (const auto& [name, tensor] : b) {
    if (!tensor.is_floating_point()) continue;
    const double scale = tensor.abs().max().item<double>();
    const double difference = (a.at(name) - tensor).abs().max().item<double>();
    differences[name] = scale > 0 ? difference / scale : difference;
  }
  return differences;
}

/// Parameters as updates (w - w_init), buffers (BatchNorm running statistics) as they are.
StateDict updates(const StateDict& trained, const StateDict& initial,
                  const std::set<std::string>& parameters) {
  StateDict result;
  for (const auto& [name, tensor] : trained) {
    if (!tensor.is_floating_point()) continue;
    result[name] = parameters.count(name) ? tensor - initial.at(name) : tensor;
  }
  return result;
}

struct StepComparison {
  std::map<std::string, double> differences;  ///< relative, per tensor
  std::string worst;
  double worst_difference = 0.0;
  std::string logs;
};

/// Trains `steps` steps as one process with 64 images and as two Gloo ranks with 32 each, from
/// the same initial weights, and compares the updates.
StepComparison compare_one_and_two_ranks(const TempDir& dir, int steps, double momentum) {
  const std::string tag = "s" + std::to_string(steps);
  const std::string flags = exact_step_flags(steps, momentum);
  StepComparison result;
  auto one =
      run_ctmq("--device cpu --threads 1 pretrain " + tiny_spec_flags(dir / (tag + "one")) + flags);
  // lr 1e-30: a run whose parameters stay at the initial weights (the same seed).
  auto init = run_ctmq("--device cpu --threads 1 pretrain " +
                       tiny_spec_flags(dir / (tag + "init")) + flags + " --set optimizer.lr=1e-30");
  auto two = run_two_ranks(dir,
                           "--threads 1 pretrain " + tiny_spec_flags(dir / (tag + "two")) + flags +
                               " --set data.batch_size=32 --dist-timeout 60",
                           "", tag);
  result.logs = one.output + init.output + two.log0 + two.log1;
  EXPECT_EQ(one.exit_code, 0) << one.output;
  EXPECT_EQ(init.exit_code, 0) << init.output;
  EXPECT_EQ(two.exit0, 0) << two.log0;
  EXPECT_EQ(two.exit1, 0) << two.log1;
  if (::testing::Test::HasFailure()) return result;
  EXPECT_NE(two.log0.find("global batch 64"), std::string::npos) << two.log0;
  EXPECT_NE(two.log0.find(std::to_string(steps) + " steps per epoch"), std::string::npos)
      << two.log0;

  Checkpoint a = load_checkpoint(dir / (tag + "two/checkpoints/pretrain.pt"));
  Checkpoint b = load_checkpoint(dir / (tag + "one/checkpoints/pretrain.pt"));
  Checkpoint w0 = load_checkpoint(dir / (tag + "init/checkpoints/pretrain.pt"));
  std::set<std::string> parameters;
  for (const auto& [name, tensor] : b.state) {
    if (name.find("running_") == std::string::npos && tensor.is_floating_point()) {
      parameters.insert(name);
    }
  }
  result.differences = relative_differences(updates(a.state, w0.state, parameters),
                                            updates(b.state, w0.state, parameters));
  for (const auto& [name, difference] : result.differences) {
    if (difference >= result.worst_difference) {
      result.worst_difference = difference;
      result.worst = name;
    }
  }
  return result;
}

// One step from the same weights: the update of every parameter and every running statistic
// agree to 2e-4 of their magnitude. Measured: running statistics 1e-7, updates 5e-7 (fc) to
// 1e-5 (convolutions), at most 9e-5 for a BatchNorm weight whose gradient is a sum with heavy
// cancellation, added up in another order. A 2x gradient, a sum/mean mix-up or local BatchNorm
// statistics are off by 1e-2 or more; the sync BatchNorm of before (statistics an ulp off
// LibTorch's, flipping hardtanh masks) was off by 2e-3 in the stem with this seed.
TEST_F(DistributedTest, TwoRanksTakeTheStepOfOneProcessWithTheCombinedBatch) {
  TempDir dir("dist-step");
  StepComparison one_step = compare_one_and_two_ranks(dir, 1, 0.0);
  ASSERT_FALSE(one_step.differences.empty()) << one_step.logs;
  for (const auto& [name, difference] : one_step.differences) {
    EXPECT_LE(difference, 2e-4) << name;
  }
  std::cout << "one step: largest relative difference " << one_step.worst_difference << " ("
            << one_step.worst << ")" << std::endl;
}

const char* const kWorkerRunDir = "CTMQ_TEST_WORKER_RUN_DIR";
const std::vector<std::string> kStopTestOverrides = {"steps.bits=[1]", "cycles.count=0"};

// Rank 1 of StopOnOneRankStopsBothAndTheRunResumes, started by it: the run in this process,
// which raises SIGTERM on itself after its third step, as a signal reaching one rank would.
TEST(DistributedWorker, DISABLED_StopsItselfAfterThreeSteps) {
  const char* run_dir = std::getenv(kWorkerRunDir);
  ASSERT_NE(run_dir, nullptr);
  install_stop_handlers();
  torch::set_num_threads(1);
  auto overrides = test::tiny_spec_overrides(run_dir);
  overrides.insert(overrides.end(), kStopTestOverrides.begin(), kStopTestOverrides.end());
  EXPECT_EQ(test::train_in_process(overrides, {std::make_shared<test::StopAfterSteps>(3)},
                                   DistBackend::kAuto),
            128 + SIGTERM);
}

TEST_F(DistributedTest, StopOnOneRankStopsBothAndTheRunResumes) {
  TempDir dir("dist-resume");
  std::string args = "--threads 1 train " + tiny_spec_flags(dir / "run") + " --dist-timeout 60";
  for (const auto& assignment : kStopTestOverrides) args += " --set " + assignment;
  const std::string worker =
      "env " + std::string(kWorkerRunDir) + "=" + (dir / "run") + " " +
      std::filesystem::read_symlink("/proc/self/exe").string() +
      " --gtest_also_run_disabled_tests"
      " --gtest_filter=DistributedWorker.DISABLED_StopsItselfAfterThreeSteps";
  auto stopped = run_two_ranks(dir, args, worker, "first");
  EXPECT_EQ(stopped.exit0, 143) << stopped.log0;
  EXPECT_EQ(stopped.exit1, 0) << stopped.log1;  // the worker test passed: it stopped with 143
  EXPECT_NE(stopped.log1.find("stopping on signal 15"), std::string::npos) << stopped.log1;
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
  // The reason, not only the exit code: the surviving rank names itself and the failed
  // collective, and says that a peer died or stalled.
  const std::string log = read_file(dir / "r0.log");
  EXPECT_NE(log.find("ctmq: error: rank 0: "), std::string::npos) << log;
  EXPECT_NE(log.find("failed (a peer process died"), std::string::npos) << log;
}

}  // namespace
}  // namespace ctmq
