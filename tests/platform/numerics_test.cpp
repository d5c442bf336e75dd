// The numerics mode through the real binary: it takes effect whatever the user's environment
// asks of LibTorch, it is recorded with every result, and a run resumes only under its own.
// The environment variables below are LibTorch's own kernel caps: `default` and SSE41 are
// levels every x86-64 CPU has, so these tests mean the same on AVX2 and AVX-512 machines.

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "ctmq/core/atomic_file.h"
#include "train/run_fixture.h"

namespace ctmq::test {
namespace {

// A user's environment that would move ATen and oneDNN off their vector kernels.
const std::string kLowCaps = "ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 ";

CommandResult ctmq_with_env(const std::string& env, const std::string& args) {
  return run_command(env + CTMQ_BINARY + " " + args);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(NumericsVersion, ReproducibleOverridesTheEnvironmentAndNativeKeepsIt) {
  const CommandResult pinned = ctmq_with_env(kLowCaps, "--version");
  ASSERT_EQ(pinned.exit_code, 0) << pinned.output;
  EXPECT_TRUE(contains(pinned.output, "numerics reproducible: ATen AVX2, oneDNN avx2"))
      << pinned.output;
  EXPECT_TRUE(contains(pinned.output, "CPU ")) << pinned.output;

  const CommandResult native = ctmq_with_env(kLowCaps, "--numerics native --version");
  ASSERT_EQ(native.exit_code, 0) << native.output;
  // ATen names its portable level "NO AVX"; oneDNN reports the cap it was given.
  EXPECT_TRUE(contains(native.output, "numerics native: ATen NO AVX, oneDNN sse41"))
      << native.output;

  const CommandResult bad = ctmq_with_env("", "--numerics fastest --version");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_TRUE(contains(bad.output, "--numerics")) << bad.output;
}

class NumericsRun : public FashionMnistTest {
 protected:
  /// `ctmq pretrain` of the tiny spec into `dir`, with `flags` and the environment `env`.
  static CommandResult pretrain(const std::string& env, const std::string& dir,
                                const std::string& flags) {
    return ctmq_with_env(env, "--threads 2 " + flags + " pretrain " + tiny_spec_flags(dir));
  }
  static nlohmann::json manifest(const std::string& dir) {
    return nlohmann::json::parse(read_file(dir + "/manifest.json"));
  }
};

TEST_F(NumericsRun, ReproducibleRunsAreBitIdenticalWhateverTheEnvironmentAsks) {
  TempDir dir("numerics-run");
  const CommandResult plain = pretrain("", dir / "plain", "--numerics reproducible");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  const CommandResult capped = pretrain(kLowCaps, dir / "capped", "");
  ASSERT_EQ(capped.exit_code, 0) << capped.output;
  EXPECT_EQ(read_file(dir / "capped/metrics.jsonl"), read_file(dir / "plain/metrics.jsonl"));

  const nlohmann::json record = manifest(dir / "capped");
  EXPECT_EQ(record.at("numerics"), "reproducible");
  const nlohmann::json& hardware = record.at("hardware");
  EXPECT_EQ(hardware.at("numerics"), "reproducible");
  EXPECT_EQ(hardware.at("aten_cpu_capability"), "AVX2");
  EXPECT_EQ(hardware.at("onednn_isa"), "avx2");
  EXPECT_EQ(hardware.at("threads"), 2);
  EXPECT_EQ(hardware.at("device"), "cpu");
  EXPECT_FALSE(hardware.at("cpu_model").get<std::string>().empty());
  EXPECT_FALSE(hardware.at("libtorch").get<std::string>().empty());
  EXPECT_TRUE(contains(capped.output, "numerics reproducible | ATen AVX2")) << capped.output;

  // The checkpoint carries the same record, and `ctmq inspect` shows it.
  const CommandResult inspected =
      run_ctmq("inspect --json " + (dir / "capped/checkpoints/pretrain.pt"));
  ASSERT_EQ(inspected.exit_code, 0) << inspected.output;
  const auto meta =
      nlohmann::json::parse(inspected.output.substr(inspected.output.find('{'))).at("meta");
  EXPECT_EQ(meta.at("numerics"), "reproducible");
  EXPECT_EQ(meta.at("hardware").at("aten_cpu_capability"), "AVX2");
  const CommandResult text = run_ctmq("inspect " + (dir / "capped/checkpoints/pretrain.pt"));
  EXPECT_TRUE(contains(text.output, "trained on: ")) << text.output;
}

TEST_F(NumericsRun, ARunResumesOnlyUnderItsOwnModeAndForceRetrainsIt) {
  TempDir dir("numerics-resume");
  const std::string run = dir / "run";
  ASSERT_EQ(pretrain("", run, "--numerics reproducible").exit_code, 0);
  const std::string metrics = read_file(run + "/metrics.jsonl");

  const CommandResult other = pretrain("", run, "--numerics native");
  EXPECT_EQ(other.exit_code, 2) << other.output;
  EXPECT_TRUE(contains(other.output, "--numerics reproducible")) << other.output;
  EXPECT_TRUE(contains(other.output, "--force")) << other.output;
  EXPECT_EQ(read_file(run + "/metrics.jsonl"), metrics) << "a refused command changed the run";
  EXPECT_EQ(manifest(run).at("numerics"), "reproducible");

  // The spec key chooses the mode where the flag is absent, and --force retrains under it.
  const CommandResult forced = ctmq_with_env(
      "", "--threads 2 pretrain --force --set train.numerics=native " + tiny_spec_flags(run));
  ASSERT_EQ(forced.exit_code, 0) << forced.output;
  const nlohmann::json record = manifest(run);
  EXPECT_EQ(record.at("numerics"), "native");
  EXPECT_EQ(record.at("hardware").at("numerics"), "native");
  EXPECT_EQ(record.at("stages").at(0).at("status"), "done");
}

// On a CPU without AVX-512 the two modes are the same kernels: the same bits.
TEST_F(NumericsRun, NativeEqualsReproducibleWhereTheCpuHasNoAvx512) {
  const CommandResult version = ctmq_with_env("", "--numerics native --version");
  ASSERT_EQ(version.exit_code, 0) << version.output;
  if (!contains(version.output, "ATen AVX2,")) {
    GTEST_SKIP() << "native kernels here are not AVX2 ones: " << version.output;
  }
  TempDir dir("numerics-same");
  ASSERT_EQ(pretrain("", dir / "native", "--numerics native").exit_code, 0);
  ASSERT_EQ(pretrain("", dir / "reproducible", "--numerics reproducible").exit_code, 0);
  EXPECT_EQ(read_file(dir / "native/metrics.jsonl"), read_file(dir / "reproducible/metrics.jsonl"));
}

}  // namespace
}  // namespace ctmq::test
