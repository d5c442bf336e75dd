// One writer per run directory, with real processes of the real binary: a second `ctmq train`
// on a busy directory exits at once with code 4 naming the holder; a SIGKILLed holder leaves no
// lock behind (the kernel releases flock locks of dead processes).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "ctmq/core/atomic_file.h"
#include "train/run_fixture.h"

namespace ctmq {
namespace {

using Clock = std::chrono::steady_clock;
using test::run_ctmq;
using test::TempDir;
using test::tiny_spec_flags;

/// The tiny spec with 500 pretraining epochs: minutes of training, never reached in a test.
std::string long_run_flags(const std::string& run_dir) {
  return tiny_spec_flags(run_dir) + " --set pretrain.epochs=500";
}

/// A `ctmq train` in the background that trains for minutes unless killed; SIGKILLed (and
/// reaped by its shell) at scope exit whatever the test's outcome.
class BackgroundRun {
 public:
  BackgroundRun(const TempDir& dir, const std::string& run_dir) {
    const std::string pid_file = dir / "holder.pid";
    const std::string command = std::string(CTMQ_BINARY) + " --threads 1 train " +
                                long_run_flags(run_dir) + " > " + (dir / "holder.log") +
                                " 2>&1 & echo $! > " + pid_file;
    std::system(("bash -c '" + command + "'").c_str());
    std::ifstream(pid_file) >> pid_;
  }
  ~BackgroundRun() { kill(); }
  pid_t pid() const { return pid_; }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    // Not our child (its shell exited): wait until it is gone, at most 10 s.
    for (int i = 0; i < 100 && ::kill(pid_, 0) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

/// Waits (at most 60 s) until the run's lock file names `pid` (written right after locking) and
/// its manifest exists (written right after that).
bool wait_for_holder(const std::string& run_dir, pid_t pid) {
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    std::ifstream in(run_dir + "/run.lock");
    std::string host, recorded;
    if (in >> host >> recorded && recorded == std::to_string(pid) &&
        std::filesystem::exists(run_dir + "/manifest.json")) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

class RunLockCli : public test::FashionMnistTest {};

TEST_F(RunLockCli, ASecondRunOnABusyDirectoryExitsAtOnceNamingTheHolder) {
  TempDir dir("lock-busy");
  const std::string run_dir = dir / "run";
  BackgroundRun holder(dir, run_dir);
  ASSERT_GT(holder.pid(), 0);
  ASSERT_TRUE(wait_for_holder(run_dir, holder.pid())) << read_file(dir / "holder.log");

  const auto start = Clock::now();
  auto second = run_ctmq("--threads 1 train " + long_run_flags(run_dir));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(second.exit_code, 4) << second.output;
  EXPECT_LT(seconds, 20.0) << "the second run must not load data or wait for the first";
  EXPECT_NE(second.output.find("run directory " + run_dir + " is in use"), std::string::npos)
      << second.output;
  EXPECT_NE(second.output.find("pid " + std::to_string(holder.pid())), std::string::npos)
      << second.output;
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  EXPECT_NE(second.output.find(std::string("host ") + host), std::string::npos) << second.output;
  // The first run goes on; the second wrote nothing (its log line would be in train.log).
  EXPECT_EQ(::kill(holder.pid(), 0), 0) << "the holder died";
  EXPECT_EQ(read_file(run_dir + "/train.log").find("| rank 0/1"),
            read_file(run_dir + "/train.log").rfind("| rank 0/1"));
  // `pretrain` goes through the same entry point.
  EXPECT_EQ(run_ctmq("--threads 1 pretrain " + long_run_flags(run_dir)).exit_code, 4);
}

TEST_F(RunLockCli, ASigkilledHolderDoesNotBlockTheNextRun) {
  TempDir dir("lock-killed");
  const std::string run_dir = dir / "run";
  {
    BackgroundRun holder(dir, run_dir);
    ASSERT_GT(holder.pid(), 0);
    ASSERT_TRUE(wait_for_holder(run_dir, holder.pid())) << read_file(dir / "holder.log");
    holder.kill();
  }
  // The lock file is still there, naming the dead holder; it must not matter. The same spec
  // as the holder's but one pretraining epoch: a different spec hash, hence --force.
  auto next = run_ctmq("--threads 1 pretrain " + tiny_spec_flags(run_dir) + " --force");
  EXPECT_EQ(next.exit_code, 0) << next.output;
  EXPECT_TRUE(std::filesystem::exists(run_dir + "/checkpoints/pretrain.pt")) << next.output;
}

}  // namespace
}  // namespace ctmq
