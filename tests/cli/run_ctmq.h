#pragma once
// Runs the real ctmq binary and captures its exit code and output.

#include <string>

#include "support/run_command.h"

namespace ctmq::test {

inline CommandResult run_ctmq(const std::string& args) {
  return run_command(std::string(CTMQ_BINARY) + " " + args);
}

}  // namespace ctmq::test
