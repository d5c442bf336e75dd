// RunLock inside one process: two locks of one directory are two open file descriptions, which
// flock(2) treats like two processes. The real-binary cases are in tests/cli/test_run_lock.cpp.

#include "ctmq/io/run_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "ctmq/core/errors.h"

namespace ctmq {
namespace {

std::string fresh_run_dir() {
  auto dir =
      std::filesystem::temp_directory_path() / ("ctmq-run-lock-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

TEST(RunLock, ASecondLockIsRefusedNamingTheDirectoryAndTheHolder) {
  const std::string dir = fresh_run_dir();
  RunLock first(dir);
  try {
    RunLock second(dir);
    FAIL() << "a second lock of " << dir << " was granted";
  } catch (const RunBusyError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(dir), std::string::npos) << message;
    EXPECT_NE(message.find("pid " + std::to_string(::getpid())), std::string::npos) << message;
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    EXPECT_NE(message.find(std::string("host ") + host), std::string::npos) << message;
    EXPECT_EQ(e.exit_code(), kExitRunBusy);
  }
  std::filesystem::remove_all(dir);
}

TEST(RunLock, IsFreeAgainOnceReleased) {
  const std::string dir = fresh_run_dir();
  { RunLock first(dir); }
  EXPECT_NO_THROW(RunLock again(dir));
  EXPECT_TRUE(std::filesystem::exists(RunLock::lock_path(dir)));
  std::filesystem::remove_all(dir);
}

TEST(RunLock, AMissingDirectoryIsAnIoErrorNamingTheFile) {
  try {
    RunLock lock("/nonexistent-ctmq-dir/run");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-ctmq-dir/run/run.lock"), std::string::npos);
  }
}

}  // namespace
}  // namespace ctmq
