#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/io/checkpoint.h"
#include "ctmq/io/manifest.h"
#include "ctmq/spec/spec_keys.h"

namespace ctmq {
namespace {

std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("ctmq-io-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

struct Tiny : torch::nn::Module {
  Tiny() {
    linear = register_module("linear", torch::nn::Linear(3, 2));
    bn = register_module("bn", torch::nn::BatchNorm1d(2));
  }
  torch::nn::Linear linear{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};

TEST(Checkpoint, RoundTripsStateAndMeta) {
  Tiny model;
  Checkpoint checkpoint{module_state(model), {{"stage", "c0-w4a4"}, {"w_bits", 4}}};
  const std::string path = temp_path("roundtrip.pt");
  save_checkpoint(path, checkpoint);
  Checkpoint loaded = load_checkpoint(path);
  EXPECT_EQ(loaded.meta["stage"], "c0-w4a4");
  ASSERT_EQ(loaded.state.size(), checkpoint.state.size());
  for (const auto& [name, tensor] : checkpoint.state) {
    EXPECT_TRUE(torch::equal(tensor, loaded.state.at(name))) << name;
  }
  Tiny other;
  load_module_state(other, loaded.state, path);
  EXPECT_TRUE(torch::equal(other.linear->weight, model.linear->weight));
  EXPECT_TRUE(torch::equal(other.bn->running_var, model.bn->running_var));
  // No temporary file is left beside the checkpoint.
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) {
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST(Checkpoint, TruncatedOrForeignFilesAreClearErrors) {
  Tiny model;
  const std::string path = temp_path("whole.pt");
  save_checkpoint(path, Checkpoint{module_state(model), {{"stage", "x"}}});
  std::string bytes = read_file(path);
  const std::string truncated = temp_path("truncated.pt");
  write_file_atomic(truncated, bytes.substr(0, bytes.size() / 2));
  try {
    load_checkpoint(truncated);
    FAIL() << "a truncated checkpoint loaded";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(truncated), std::string::npos) << e.what();
  }
  const std::string text = temp_path("text.pt");
  write_file_atomic(text, "hello");
  EXPECT_THROW(load_checkpoint(text), IoError);
  EXPECT_THROW(load_checkpoint(temp_path("missing.pt")), IoError);
}

TEST(Checkpoint, MismatchedModelNamesEveryProblem) {
  Tiny model;
  StateDict state = module_state(model);
  state.erase("linear.bias");
  state["linear.weight"] = torch::zeros({5, 5});
  state["extra"] = torch::zeros({1});
  try {
    load_module_state(model, state, "ckpt.pt");
    FAIL();
  } catch (const IoError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("ckpt.pt"), std::string::npos);
    EXPECT_NE(what.find("missing linear.bias"), std::string::npos) << what;
    EXPECT_NE(what.find("linear.weight has shape [5, 5]"), std::string::npos) << what;
    EXPECT_NE(what.find("unexpected extra"), std::string::npos) << what;
  }
}

TEST(Manifest, RoundTripsAndDerivesDeterministicMetrics) {
  ExperimentSpec spec = spec_defaults();
  spec.steps.bits = {2, 1};
  Manifest manifest = make_manifest("demo", "abc", make_stage_plan(spec));
  manifest.stages[0].status = StageStatus::kDone;
  EpochMetrics epoch;
  epoch.stage = "pretrain";
  epoch.epoch = 1;
  epoch.cumulative_epoch = 1;
  epoch.val_top1 = 50.0;
  epoch.images_per_second = 123.0;
  epoch.seconds = 1.5;
  manifest.stages[0].history.push_back(epoch);
  manifest.stages[0].final_metrics = StageMetrics{0.5, 50.0, 90.0, 0.4, 60.0, 1};
  manifest.stages[0].best_metrics = BestMetrics{50.0, 90.0, 1};
  const std::string dir = temp_path("run");
  RunPaths paths{dir};
  std::filesystem::create_directories(dir);
  save_manifest(paths, manifest);
  Manifest loaded = load_manifest(paths);
  EXPECT_EQ(manifest_to_json(loaded), manifest_to_json(manifest));
  std::string metrics = read_file(paths.metrics());
  // Wall-clock fields stay out of metrics.jsonl; keys are sorted.
  EXPECT_EQ(metrics,
            "{\"a_bits\":32,\"cumulative_epoch\":1,\"cycle\":0,\"epoch\":1,\"lr\":0.0,"
            "\"stage\":\"pretrain\",\"train_loss\":0.0,\"train_top1\":0.0,\"val_loss\":0.0,"
            "\"val_top1\":50.0,\"val_top5\":0.0,\"w_bits\":32}\n");
}

}  // namespace
}  // namespace ctmq
