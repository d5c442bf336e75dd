#pragma once
// Runs a shell command and captures its exit code and output: the one way tests start a
// process and read what it said.

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace ctmq::test {

struct CommandResult {
  int exit_code = -1;  ///< 128 + the signal when a signal ended it
  std::string output;  ///< stdout and stderr together
};

/// Runs `command` with /bin/sh, stderr joined to stdout.
inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace ctmq::test
