#pragma once
// Tests that need something from outside ctmq (python3-torch, dataset-fashion-mnist,
// libjpeg-turbo, slurm, npm) use CTMQ_REQUIRE. Where the thing is missing the test reports
// itself skipped, never passed; under CI (CI=true) it fails instead, because CI installs every
// prerequisite and a skip there would hide a broken install step.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace ctmq::test {

/// True when the environment variable CI is "true" (as CI runs set it).
inline bool running_under_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

/// The Python the checkpoint-interop tests run: $CTMQ_PYTHON when set (a PyTorch of one's
/// choice, such as a GPU machine's own), else Debian's /usr/bin/python3 (python3-torch).
inline std::string python_with_torch() {
  const char* chosen = std::getenv("CTMQ_PYTHON");
  return chosen != nullptr && *chosen != '\0' ? chosen : "/usr/bin/python3";
}

/// True when python_with_torch() can import torch.
inline bool python_has_torch() {
  return std::system((python_with_torch() + " -c 'import torch' 2>/dev/null").c_str()) == 0;
}

}  // namespace ctmq::test

/// Use in a TEST body or a fixture's SetUp: skips (fails under CI) when `available` is false.
#define CTMQ_REQUIRE(available, what)                                 \
  do {                                                                \
    if (!(available)) {                                               \
      if (::ctmq::test::running_under_ci()) {                         \
        GTEST_FAIL() << (what) << " is missing, and CI must have it"; \
      }                                                               \
      GTEST_SKIP() << (what) << " is missing";                        \
    }                                                                 \
  } while (0)
