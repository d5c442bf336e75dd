// scripts/demo.sh is the README's one-command main job. It reports the demo spec's run
// directory, so it refuses arguments (which `ctmq train` would take and could send the run
// elsewhere) before it installs or builds anything.

#include <gtest/gtest.h>

#include <string>

#include "support/run_command.h"

namespace ctmq {
namespace {

TEST(DemoScript, RefusesArgumentsWithAUsageLineBeforeDoingAnything) {
  const std::string script = std::string(CTMQ_SOURCE_DIR) + "/scripts/demo.sh";
  for (const std::string& arguments : {"--help", "--set data.train_limit=10", "x"}) {
    auto result = test::run_command("/bin/bash " + script + " " + arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.output;
    // Its only output: nothing was installed, built or trained.
    EXPECT_EQ(result.output.rfind("usage: scripts/demo.sh", 0), 0u) << result.output;
    EXPECT_EQ(result.output.find('\n'), result.output.size() - 1) << result.output;
  }
}

}  // namespace
}  // namespace ctmq
