// A rank that dies must make the others fail with a clear error in bounded time, never hang.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>
#include <utility>
#include <vector>

#include "ctmq/dist/dist_error.h"
#include "ctmq/dist/process_group.h"
#include "multi_process.h"

namespace ctmq {
namespace {

using std::chrono::seconds;

constexpr int kTimeoutSeconds = 5;

// mode "die": the rank _exit(1)s before the collective; "stall": it sleeps past the timeout.
TEST(DeadRank, PeersFailWithinTheTimeout) {
  const std::vector<std::pair<int, std::string>> cases{{1, "die"}, {0, "die"}, {1, "stall"}};
  for (const auto& [dead_rank, mode] : cases) {
    SCOPED_TRACE(mode + " on rank " + std::to_string(dead_rank));
    test::TempDir temp;
    const std::string& dir = temp.path();
    auto results = test::run_workers(
        "DieBeforeCollective", 2, dir, seconds(90),
        {{"CTMQ_TEST_DEAD_RANK", std::to_string(dead_rank)}, {"CTMQ_TEST_MODE", mode}});
    const auto& dead = results[static_cast<size_t>(dead_rank)];
    const auto& survivor = results[static_cast<size_t>(1 - dead_rank)];
    EXPECT_FALSE(survivor.timed_out) << test::describe(results);
    EXPECT_EQ(dead.exit_code, 1) << test::describe(results);
    // The survivor exits the way main would after catching the error: with its exit code.
    EXPECT_EQ(survivor.exit_code, kExitFailure) << test::describe(results);

    std::ifstream report(dir + "/survivor.txt");
    double elapsed_s = -1;
    std::string message;
    report >> elapsed_s;
    std::getline(report >> std::ws, message);
    EXPECT_GE(elapsed_s, 0) << test::describe(results);
    EXPECT_LT(elapsed_s, kTimeoutSeconds + 30) << message;  // loose: the bound, not the speed
    EXPECT_NE(message.find("rank " + std::to_string(1 - dead_rank)), std::string::npos) << message;
    EXPECT_NE(message.find("all_reduce"), std::string::npos) << message;
  }
}

TEST(DistWorker, DISABLED_DieBeforeCollective) {
  if (!test::in_worker()) GTEST_SKIP() << "runs only inside DeadRank.PeersFailWithinTheTimeout";
  const int dead_rank = std::atoi(std::getenv("CTMQ_TEST_DEAD_RANK"));
  auto context = DistContext::create(detect_dist_env_from_process(), DistBackend::kGloo,
                                     seconds(kTimeoutSeconds));
  context->barrier();
  if (context->rank() == dead_rank) {
    if (std::string(std::getenv("CTMQ_TEST_MODE")) == "stall") {
      std::this_thread::sleep_for(seconds(3 * kTimeoutSeconds));
    }
    _exit(1);
  }

  auto start = std::chrono::steady_clock::now();
  int exit_code = 0;
  std::string message = "no error";
  try {
    for (int i = 0; i < 100; ++i) {
      auto tensor = torch::ones({1000});
      context->all_reduce_sum_(tensor);
    }
  } catch (const DistError& e) {
    exit_code = e.exit_code();
    message = e.what();
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  context.reset();  // tearing down after a failure must not hang either
  {
    std::ofstream report(test::worker_results_dir() + "/survivor.txt");
    report << elapsed << "\n" << message << "\n";
  }
  std::fflush(nullptr);
  _exit(exit_code);
}

}  // namespace
}  // namespace ctmq
