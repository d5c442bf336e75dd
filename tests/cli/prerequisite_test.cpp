// CTMQ_REQUIRE (tests/support/prerequisite.h) must fail a test under CI=true and skip it
// elsewhere. Proved on this very binary: a probe test is run in a child process with CI set and
// unset, and its gtest output and exit code are read back.

#include <sys/wait.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/prerequisite.h"
#include "support/run_command.h"

namespace ctmq {
namespace {

constexpr const char* kProbeVariable = "CTMQ_PREREQUISITE_PROBE";

using ChildResult = test::CommandResult;

/// Runs this test binary's probe test with `environment` ("CI=true", "-u CI", ...) given to env.
ChildResult run_probe(const std::string& environment, const std::string& have) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  return test::run_command("env " + environment + " " + kProbeVariable + "=" + have + " '" + self +
                           "' --gtest_filter=PrerequisiteProbe.*");
}

// Only meaningful inside run_probe's child: its prerequisite is present when the variable says so.
TEST(PrerequisiteProbe, NeedsTheProbePrerequisite) {
  const char* have = std::getenv(kProbeVariable);
  if (have == nullptr) GTEST_SKIP() << "runs only inside Prerequisite.FailsUnderCiSkipsElsewhere";
  CTMQ_REQUIRE(std::string(have) == "yes", "the probe prerequisite");
  SUCCEED() << "the probe prerequisite is there";
}

TEST(Prerequisite, FailsUnderCiSkipsElsewhere) {
  const auto under_ci = run_probe("CI=true", "no");
  EXPECT_EQ(under_ci.exit_code, 1) << under_ci.output;
  EXPECT_NE(under_ci.output.find("the probe prerequisite is missing, and CI must have it"),
            std::string::npos)
      << under_ci.output;
  EXPECT_NE(under_ci.output.find("[  FAILED  ] PrerequisiteProbe.NeedsTheProbePrerequisite"),
            std::string::npos)
      << under_ci.output;

  for (const std::string environment : {"-u CI", "CI=false", "CI=1"}) {
    const auto elsewhere = run_probe(environment, "no");
    EXPECT_EQ(elsewhere.exit_code, 0) << environment << "\n" << elsewhere.output;
    EXPECT_NE(elsewhere.output.find("[  SKIPPED ] PrerequisiteProbe.NeedsTheProbePrerequisite"),
              std::string::npos)
        << environment << "\n"
        << elsewhere.output;
    EXPECT_NE(elsewhere.output.find("the probe prerequisite is missing"), std::string::npos)
        << elsewhere.output;
    EXPECT_EQ(elsewhere.output.find("[  FAILED  ]"), std::string::npos) << elsewhere.output;
  }

  const auto present = run_probe("CI=true", "yes");
  EXPECT_EQ(present.exit_code, 0) << present.output;
  EXPECT_NE(present.output.find("[       OK ] PrerequisiteProbe.NeedsTheProbePrerequisite"),
            std::string::npos)
      << present.output;
}

}  // namespace
}  // namespace ctmq
