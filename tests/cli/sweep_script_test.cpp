// scripts/sweep.sh run locally with a stand-in for ctmq that prints its arguments: the header's
// example runs as pasted, and every value reaches ctmq literally (no word splitting, no
// pathname expansion of '*' or '?'). tests/slurm/ runs it as a Slurm job array.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace ctmq {
namespace {

namespace fs = std::filesystem;

const std::string kSource = CTMQ_SOURCE_DIR;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

size_t count_lines(const std::string& text) {
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

/// A folder that looks like the repository root (scripts/ and data/ linked), with a stand-in
/// ctmq and files that the patterns of the tests would match.
class SweepScript : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directory_symlink(kSource + "/scripts", root_ / "scripts");
    fs::create_directory_symlink(kSource + "/data", root_ / "data");
    std::ofstream(root_ / "print_args.sh") << "#!/usr/bin/env bash\nprintf '<%s>\\n' \"$@\"\n";
    fs::permissions(root_ / "print_args.sh", fs::perms::owner_all, fs::perm_options::add);
    for (const char* name : {"name=wXa1", "name=w1", "seed=1x"}) std::ofstream(root_ / name);
  }
  /// Runs `script` (bash) in the folder with CTMQ set to the stand-in.
  test::CommandResult run(const std::string& script) {
    std::ofstream(root_ / "command.sh") << script << "\n";
    return test::run_command("cd " + root_.str() + " && CTMQ=" + (root_ / "print_args.sh") +
                             " bash command.sh");
  }
  test::TempDir root_{"sweep"};
};

TEST_F(SweepScript, TheHeaderExampleRunsAsPasted) {
  // The example is the block of "#   " lines after "# For example" in the script's header.
  std::istringstream header(read_text(kSource + "/scripts/sweep.sh"));
  std::string example;
  bool in_example = false;
  for (std::string line; std::getline(header, line);) {
    if (line.rfind("# For example", 0) == 0) in_example = true;
    if (!in_example) continue;
    if (line.rfind("#   ", 0) == 0) {
      example += line.substr(4) + "\n";
    } else if (!example.empty()) {
      break;
    }
  }
  ASSERT_NE(example.find("scripts/sweep.sh"), std::string::npos) << example;
  const auto result = run(example);
  ASSERT_EQ(result.exit_code, 0) << example << result.output;
  EXPECT_NE(result.output.find("sweep: 12 runs listed in runs/sweep/sweep.txt"), std::string::npos)
      << result.output;
  const std::string list = read_text(root_ / "runs/sweep/sweep.txt");
  EXPECT_EQ(count_lines(list), 12u) << list;
  EXPECT_NE(list.find("--set\tsteps.bits=[4,3,2,1]\t"), std::string::npos) << list;
  EXPECT_NE(list.find("--set\tsteps.bits=[1]\t"), std::string::npos) << list;
  // The printed commands run as printed too.
  std::string commands;
  std::istringstream lines(result.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" train --config ") != std::string::npos) commands += line + "\n";
  }
  EXPECT_EQ(count_lines(commands), 12u) << result.output;
  const auto rerun = run(commands);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  EXPECT_NE(
      rerun.output.find("<steps.bits=[4,3,2,1]>\n<--set>\n<cycles.count=0>\n<--threads>\n<2>"),
      std::string::npos)
      << rerun.output;
}

TEST_F(SweepScript, ValuesArriveLiterallyNeverPatternExpandedOrSplit) {
  const auto result =
      run("scripts/sweep.sh --spec data/specs/fmnist-default.json --out runs/literal "
          "--grid 'name=w?a1,w*' --grid 'seed=1' -- --set 'data.root=/tmp/*' --set 'name=a b'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (const std::string arg :
       {"<--set>\n<name=w?a1>\n", "<--set>\n<name=w*>\n", "<data.root=/tmp/*>\n", "<name=a b>\n",
        "<output_dir=runs/literal/name=w?a1_seed=1>\n", "<--set>\n<seed=1>\n"}) {
    EXPECT_NE(result.output.find(arg), std::string::npos) << arg << "\n" << result.output;
  }
  for (const std::string file : {"wXa1", "name=w1", "seed=1x"}) {
    EXPECT_EQ(result.output.find(file), std::string::npos) << file << "\n" << result.output;
  }
}

}  // namespace
}  // namespace ctmq
