#pragma once
// Runs the real ctmq binary and captures its exit code and output.

#include <cstdlib>
#include <string>

#include "support/run_command.h"

namespace ctmq::test {

/// The numerics mode of this test process (CTMQ_TEST_NUMERICS, default reproducible), which
/// the ctmq processes it starts share, so that in-process and binary results compare exactly.
inline std::string test_numerics() {
  const char* mode = std::getenv("CTMQ_TEST_NUMERICS");
  return mode != nullptr && std::string(mode) == "native" ? "native" : "reproducible";
}

/// `ctmq ARGS`, with this process's --numerics unless ARGS choose one.
inline CommandResult run_ctmq(const std::string& args) {
  const std::string numerics =
      args.find("--numerics") == std::string::npos ? "--numerics " + test_numerics() + " " : "";
  return run_command(std::string(CTMQ_BINARY) + " " + numerics + args);
}

}  // namespace ctmq::test
