#pragma once
// Runs a gtest of this very binary as N real processes on 127.0.0.1, the way torchrun would:
// each child is spawned (fork+exec via posix_spawn, so no torch thread is ever forked) with
// RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT and a results folder in its environment, and runs
// one DistWorker.DISABLED_* test. DISABLED_ keeps the workers out of ordinary runs.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "ctmq/dist/dist_env.h"
#include "support/temp_dir.h"

namespace ctmq::test {

/// How one worker process ended; `log` is its stdout and stderr.
struct WorkerResult {
  int rank = 0;
  int exit_code = -1;      ///< -1 when it was killed by a signal
  bool timed_out = false;  ///< still running at the deadline, then killed
  std::string log;
};

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
int free_port();

/// Runs DistWorker.DISABLED_<worker_test> in `world_size` processes and waits for all of them,
/// killing any still running after `limit`. `results_dir` is passed as CTMQ_DIST_RESULTS.
std::vector<WorkerResult> run_workers(const std::string& worker_test, int world_size,
                                      const std::string& results_dir, std::chrono::seconds limit,
                                      const std::map<std::string, std::string>& extra_env = {});

/// Worker side: true inside a process started by run_workers().
bool in_worker();
/// Worker side: the folder for results files.
std::string worker_results_dir();
/// Joined logs of all workers, for failure messages.
std::string describe(const std::vector<WorkerResult>& results);

}  // namespace ctmq::test
