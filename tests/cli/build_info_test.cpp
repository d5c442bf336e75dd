// The build info (lib/ctmq/core/build_info.h): what `ctmq --version` prints, what checkpoints and
// manifests record, and how cmake/build_info.cmake takes the commit from a git tree or a tarball.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "run_ctmq.h"
#include "support/prerequisite.h"

namespace fs = std::filesystem;

namespace ctmq {
namespace {

using test::run_ctmq;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int run_shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// A fresh folder below gtest's temp dir.
fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("ctmq-build-info-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

/// Runs cmake/build_info.cmake for `source_dir`; returns the generated source.
std::string generate(const fs::path& source_dir, const fs::path& output) {
  const std::string command =
      std::string(CTMQ_CMAKE_COMMAND) + " -DSOURCE_DIR=" + source_dir.string() +
      " -DOUTPUT=" + output.string() + " -P " + CTMQ_SOURCE_DIR + "/cmake/build_info.cmake";
  EXPECT_EQ(run_shell(command), 0) << command;
  return read_text(output);
}

TEST(BuildInfo, VersionPrintsCommitTreeStateAndLibTorch) {
  auto result = run_ctmq("--version");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  std::smatch match;
  const std::regex expected(
      "ctmq [0-9]+\\.[0-9]+\\.[0-9]+\ngit commit ([0-9a-f]{40} \\((clean|dirty)\\)|unknown)\n"
      "LibTorch [0-9]+\\.[0-9]+\\.[0-9]+.*\n"
      // This machine, in the numerics mode the command computes in.
      "CPU .+\nnumerics reproducible: ATen AVX2, oneDNN (avx2|unknown), BLAS .+\n"
      "threads [0-9]+\n");
  ASSERT_TRUE(std::regex_match(result.output, match, expected)) << result.output;
  const std::string commit = result.output.substr(result.output.find("commit ") + 7, 40);
  if (fs::exists(std::string(CTMQ_SOURCE_DIR) + "/.git")) {
    // Built from this checkout: the commit is one of its commits (HEAD when freshly built).
    EXPECT_EQ(run_shell("git -C " CTMQ_SOURCE_DIR " cat-file -e " + commit + "^{commit}"), 0)
        << commit;
  }
}

TEST(BuildInfo, ScriptTakesTheCommitAndTreeStateAndRewritesOnlyOnChange) {
  const fs::path repo = fresh_dir("repo");
  const fs::path output = fresh_dir("out") / "values.cpp";
  const std::string git = "git -C " + repo.string() + " ";
  ASSERT_EQ(run_shell(git + "init -q && " + git + "config user.email t@t && " + git +
                      "config user.name t && echo a > " + repo.string() + "/file && " + git +
                      "add file && " + git + "commit -q -m one"),
            0);
  const std::string head = [&] {
    FILE* pipe = ::popen((git + "rev-parse HEAD").c_str(), "r");
    char line[64] = {};
    if (pipe && std::fgets(line, sizeof(line), pipe)) {
      ::pclose(pipe);
      return std::string(line, 40);
    }
    return std::string();
  }();
  ASSERT_EQ(head.size(), 40u);

  std::string clean = generate(repo, output);
  EXPECT_NE(clean.find("kGitCommit = \"" + head + "\""), std::string::npos) << clean;
  EXPECT_NE(clean.find("kGitTreeState = \"clean\""), std::string::npos) << clean;

  // Unchanged values leave the file alone: the build then recompiles nothing.
  const auto written = fs::last_write_time(output);
  std::ofstream(repo / "untracked.txt") << "not part of the build";
  fs::last_write_time(output, written - std::chrono::hours(1));
  const auto backdated = fs::last_write_time(output);
  EXPECT_EQ(generate(repo, output), clean);
  EXPECT_EQ(fs::last_write_time(output), backdated);

  std::ofstream(repo / "file") << "changed";
  std::string dirty = generate(repo, output);
  EXPECT_NE(dirty.find("kGitTreeState = \"dirty\""), std::string::npos) << dirty;
  EXPECT_NE(fs::last_write_time(output), backdated);

  // A tarball (no .git) gives "unknown", even when unpacked inside another repository.
  const fs::path tarball = repo / "unpacked";
  fs::create_directories(tarball);
  std::string unknown = generate(tarball, output);
  EXPECT_NE(unknown.find("kGitCommit = \"unknown\""), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("kGitTreeState = \"unknown\""), std::string::npos) << unknown;
  fs::remove_all(repo);
}

TEST(BuildInfo, CheckpointsAndManifestRecordItButNotMetrics) {
  CTMQ_REQUIRE(fs::exists(std::string(CTMQ_FASHION_MNIST_DIR) + "/train-images-idx3-ubyte.gz"),
               "dataset-fashion-mnist (" CTMQ_FASHION_MNIST_DIR ")");
  const fs::path run = fresh_dir("run") / "run";
  auto trained =
      run_ctmq("--threads 2 pretrain --set output_dir=" + run.string() +
               " --set data.root=" CTMQ_FASHION_MNIST_DIR
               " --set data.train_limit=128 --set data.val_limit=64 --set data.batch_size=64"
               " --set data.workers=1 --set pretrain.epochs=1");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;

  auto version = run_ctmq("--version");
  const std::string commit_line = version.output.substr(version.output.find("git commit ") + 11);
  const std::string commit = commit_line.substr(0, commit_line.find_first_of(" \n"));

  auto inspected = run_ctmq("inspect --json " + (run / "checkpoints/pretrain.pt").string());
  ASSERT_EQ(inspected.exit_code, 0) << inspected.output;
  const auto build = nlohmann::json::parse(inspected.output)["meta"]["build"];
  EXPECT_EQ(build["git_commit"], commit) << build;
  EXPECT_TRUE(build["git_dirty"].is_boolean() || commit == "unknown") << build;
  EXPECT_EQ(version.output.find("LibTorch " + build["libtorch_version"].get<std::string>()),
            version.output.rfind("LibTorch"))
      << build;
  const auto manifest = nlohmann::json::parse(read_text(run / "manifest.json"));
  EXPECT_EQ(build["ctmq_version"], manifest["ctmq_version"]);
  EXPECT_EQ(manifest["build"], build);
  // metrics.jsonl must stay byte-identical between identical runs, whatever the build.
  EXPECT_EQ(read_text(run / "metrics.jsonl").find("git"), std::string::npos);
  fs::remove_all(run.parent_path());
}

}  // namespace
}  // namespace ctmq
