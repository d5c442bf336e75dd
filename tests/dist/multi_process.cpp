#include "multi_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace ctmq::test {
namespace {

const char* kWorkerVar = "CTMQ_DIST_WORKER";
const char* kResultsVar = "CTMQ_DIST_RESULTS";

bool is_overridden(const std::string& entry, const std::map<std::string, std::string>& vars) {
  auto eq = entry.find('=');
  return eq != std::string::npos && vars.count(entry.substr(0, eq)) > 0;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error("could not bind a free port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::vector<WorkerResult> run_workers(const std::string& worker_test, int world_size,
                                      const std::string& results_dir, std::chrono::seconds limit,
                                      const std::map<std::string, std::string>& extra_env) {
  const std::string port = std::to_string(free_port());
  std::vector<pid_t> pids;
  std::vector<WorkerResult> results(static_cast<size_t>(world_size));
  for (int rank = 0; rank < world_size; ++rank) {
    std::map<std::string, std::string> vars = extra_env;
    vars[kWorkerVar] = "1";
    vars[kResultsVar] = results_dir;
    vars["RANK"] = std::to_string(rank);
    vars["LOCAL_RANK"] = std::to_string(rank);
    vars["WORLD_SIZE"] = std::to_string(world_size);
    vars["MASTER_ADDR"] = "127.0.0.1";
    vars["MASTER_PORT"] = port;
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      if (!is_overridden(*e, vars)) env_strings.emplace_back(*e);
    }
    for (const auto& [name, value] : vars) env_strings.push_back(name + "=" + value);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);

    std::string exe = "/proc/self/exe";
    std::string also = "--gtest_also_run_disabled_tests";
    std::string filter = "--gtest_filter=DistWorker.DISABLED_" + worker_test;
    std::vector<char*> argv{exe.data(), also.data(), filter.data(), nullptr};

    std::string log = results_dir + "/rank" + std::to_string(rank) + ".log";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      for (pid_t started : pids) {
        kill(started, SIGKILL);
        waitpid(started, nullptr, 0);
      }
      throw std::runtime_error("posix_spawn failed: " + std::to_string(rc));
    }
    pids.push_back(pid);
    results[static_cast<size_t>(rank)].rank = rank;
  }

  auto deadline = std::chrono::steady_clock::now() + limit;
  std::vector<bool> done(pids.size(), false);
  size_t remaining = pids.size();
  while (remaining > 0) {
    for (size_t r = 0; r < pids.size(); ++r) {
      if (done[r]) continue;
      int status = 0;
      if (waitpid(pids[r], &status, WNOHANG) == pids[r]) {
        done[r] = true;
        --remaining;
        results[r].exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
    }
    if (remaining == 0) break;
    if (std::chrono::steady_clock::now() > deadline) {
      for (size_t r = 0; r < pids.size(); ++r) {
        if (done[r]) continue;
        kill(pids[r], SIGKILL);
        waitpid(pids[r], nullptr, 0);
        results[r].timed_out = true;
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& result : results) {
    result.log = read_file(results_dir + "/rank" + std::to_string(result.rank) + ".log");
  }
  return results;
}

bool in_worker() {
  return std::getenv(kWorkerVar) != nullptr;
}

std::string worker_results_dir() {
  const char* dir = std::getenv(kResultsVar);
  return dir == nullptr ? std::string() : std::string(dir);
}

std::string describe(const std::vector<WorkerResult>& results) {
  std::string text;
  for (const auto& r : results) {
    text += "--- rank " + std::to_string(r.rank) + " exit " + std::to_string(r.exit_code) +
            (r.timed_out ? " (killed at deadline)" : "") + "\n" + r.log + "\n";
  }
  return text;
}

}  // namespace ctmq::test
