// The log file a run writes: its lines are in the file while the process still runs.

#include "ctmq/core/logging.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ctmq {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(Logging, InfoLinesReachTheLogFileAtOnce) {
  const std::string dir = ::testing::TempDir() + "ctmq-logging-test";
  std::filesystem::remove_all(dir);
  const std::string path = dir + "/run/train.log";  // its folder is created
  configure_logging("info", "");
  add_log_file(path);
  spdlog::debug("below the level: not written");
  spdlog::info("epoch 1/16: val top1 {:.2f}%", 85.5);
  // Read while the logger and its file are still open, as `tail -f` would.
  const std::string text = read_all(path);
  EXPECT_NE(text.find("[info] epoch 1/16: val top1 85.50%"), std::string::npos) << text;
  EXPECT_EQ(text.find("below the level"), std::string::npos) << text;
  configure_logging("info", "");  // drops the file sink
  std::filesystem::remove_all(dir);
}

TEST(Logging, TheFirstLogFileStartsWithTheLinesLoggedBeforeIt) {
  const std::string dir = ::testing::TempDir() + "ctmq-logging-backlog-test";
  std::filesystem::remove_all(dir);
  configure_logging("info", "");
  spdlog::warn("skipping bad image {}: {}", "train/n01/cut.jpg", "truncated JPEG");
  spdlog::debug("below the level: kept nowhere");
  spdlog::info("before the file");
  add_log_file(dir + "/run/train.log");
  spdlog::info("after the file");
  const std::string text = read_all(dir + "/run/train.log");
  const size_t skip = text.find("[warning] skipping bad image train/n01/cut.jpg: truncated JPEG");
  const size_t before = text.find("[info] before the file");
  const size_t after = text.find("[info] after the file");
  EXPECT_NE(skip, std::string::npos) << text;
  EXPECT_LT(skip, before) << text;
  EXPECT_NE(before, std::string::npos) << text;
  EXPECT_LT(before, after) << text;
  EXPECT_NE(after, std::string::npos) << text;
  EXPECT_EQ(text.find("below the level"), std::string::npos) << text;
  // Only the first file gets them: a second one starts when it is added.
  add_log_file(dir + "/second.log");
  spdlog::info("in both");
  const std::string second = read_all(dir + "/second.log");
  EXPECT_EQ(second.find("before the file"), std::string::npos) << second;
  EXPECT_NE(second.find("in both"), std::string::npos) << second;
  configure_logging("info", "");
  std::filesystem::remove_all(dir);
}

TEST(Logging, UnknownLevelNamesTheFlag) {
  try {
    configure_logging("loud", "");
    FAIL() << "no error for --log-level loud";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("--log-level loud"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ctmq
