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
