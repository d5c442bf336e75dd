// `ctmq export` on real trained checkpoints (a tiny CTMQ run on Fashion-MNIST): the ONNX model
// gives `ctmq eval --checkpoint`'s Top-1 and logits in onnxruntime, and the native export is
// bit-packed, small, and still gives the checkpoint's Top-1.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/run_ctmq.h"
#include "ctmq/core/atomic_file.h"
#include "ctmq/data/dataset_factory.h"
#include "ctmq/io/checkpoint_network.h"
#ifdef CTMQ_WITH_ONNX
#include "ctmq/onnx/onnx_graph.h"
#endif
#include "ctmq/spec/spec_keys.h"
#include "support/onnxruntime.h"
#include "support/prerequisite.h"
#include "train/run_fixture.h"

namespace ctmq::test {
namespace {

constexpr int64_t kImages = 2000;  // the fixed subset `ctmq eval --limit 2000` scores

// One tiny run shared by the checks of this file: pretrain (float), c0-w4a4, c0-w2a2, c0-w1a1.
class ExportCommand : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fashion_mnist_available()) return;
    run_ = new TempDir("export-run");
    std::string flags;
    for (const auto& assignment : tiny_spec_overrides(run_->path())) {
      if (assignment.rfind("steps.bits=", 0) == 0 || assignment.rfind("cycles.", 0) == 0) continue;
      flags += " --set " + assignment;
    }
    flags += " --set steps.bits=[4,2,1] --set cycles.count=0";
    trained_ = run_ctmq("--threads 2 train" + flags);
  }
  static void TearDownTestSuite() {
    delete run_;
    run_ = nullptr;
  }
  void SetUp() override {
    CTMQ_REQUIRE(fashion_mnist_available(), "dataset-fashion-mnist");
    ASSERT_EQ(trained_.exit_code, 0) << trained_.output;
  }
  static std::string checkpoint(const std::string& stage) {
    return run_->path() + "/checkpoints/" + stage + ".pt";
  }
  static nlohmann::json run_json(const std::string& args) {
    const CommandResult r = run_ctmq(args);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.output;
    const size_t start = r.output.find('{');
    if (r.exit_code != 0 || start == std::string::npos) return nlohmann::json::object();
    return nlohmann::json::parse(r.output.substr(start));
  }

  /// `ctmq export --format onnx` of the float, W2A2 and W1A1 checkpoints in onnxruntime.
  void check_onnx_export();
  /// `ctmq export` (native) of the W1A1, W2A2 and W4A4 checkpoints: sizes and Top-1.
  void check_native_export();

  static TempDir* run_;
  static CommandResult trained_;
};

TempDir* ExportCommand::run_ = nullptr;
CommandResult ExportCommand::trained_;

// Exported models run on the CPU, and so does every evaluation they are compared with: on a CUDA
// machine `--device auto` would score the checkpoint on the GPU, whose TF32 convolutions differ
// from the CPU's by more than these comparisons allow.
std::string eval_flags(int64_t images = kImages) {
  return "--device cpu --data " CTMQ_FASHION_MNIST_DIR " --format fashion-mnist --limit " +
         std::to_string(images) + " --batch-size 250";
}

// ctest runs each test in a process of its own, so that the tiny run is trained once, the ONNX
// and the native checks share one test.
TEST_F(ExportCommand, OnnxAndNativeExportsOfTrainedCheckpoints) {
  {
    SCOPED_TRACE("native export");
    check_native_export();
  }
  SCOPED_TRACE("ONNX export");
  check_onnx_export();
}

void ExportCommand::check_onnx_export() {
#ifndef CTMQ_WITH_ONNX
  CTMQ_REQUIRE(false, "ONNX (libonnx-dev): this ctmq was built without the ONNX export");
#else
  CTMQ_REQUIRE(onnxruntime_node_available(), "onnxruntime-node (npm registry)");
  TempDir dir("export-onnx");
  // The images `ctmq eval --limit 2000` scores, prepared by ctmq's own loader.
  DataSpec data = spec_defaults().data;
  data.root = CTMQ_FASHION_MNIST_DIR;
  data.format = DataFormat::kFashionMnist;
  data.train_limit = 64;
  data.val_limit = kImages;
  data.batch_size = 250;
  data.workers = 1;
  data.augment = false;
  DataSplits splits = open_dataset(data, 1, 0, 1);
  std::vector<torch::Tensor> images, label_batches;
  splits.val->start_epoch(0);
  while (auto batch = splits.val->next()) {
    images.push_back(batch->images);
    label_batches.push_back(batch->labels);
  }
  const torch::Tensor x = torch::cat(images);
  const torch::Tensor labels = torch::cat(label_batches).to(torch::kLong);
  ASSERT_EQ(x.size(0), kImages);
  write_raw(dir / "images.f32", x);
  write_raw(dir / "indices.i64", torch::tensor(data::limited_subset(10000, kImages), torch::kLong));

  nlohmann::json cases = nlohmann::json::array();
  std::vector<double> ctmq_top1;
  std::vector<std::string> ctmq_stage;
  for (const std::string stage : {"pretrain", "c0-w2a2", "c0-w1a1"}) {
    const std::string model = dir / (stage + ".onnx");
    const nlohmann::json exported =
        run_json("export --format onnx --checkpoint " + checkpoint(stage) + " --out " + model);
    EXPECT_EQ(exported.value("format", ""), "onnx");
    EXPECT_NO_THROW(check_onnx_model(read_file(model))) << stage;
    EXPECT_GT(exported.value("checkpoint_bytes", 0), 0);
    std::cout << stage << ": onnx " << exported.value("exported_bytes", 0) << " bytes, checkpoint "
              << exported.value("checkpoint_bytes", 0) << " bytes" << std::endl;

    Checkpoint meta;
    auto network = network_from_checkpoint(checkpoint(stage), meta);
    torch::Tensor logits, perturbed;
    {
      torch::NoGradGuard no_grad;
      logits = network->forward(x);
      torch::manual_seed(5);
      // One float ulp (2^-23 relative) up or down on every pixel: round-off of the input alone.
      torch::Tensor ulp =
          x.abs().mul(std::ldexp(1.0, -23)).mul(torch::randint(0, 2, x.sizes()).mul(2).sub(1));
      perturbed = network->forward(x + ulp);
    }
    // What float round-off does to this network by itself: ctmq's own logits after one ulp of
    // change on every input pixel. A float network moves by round-off only; a quantized one
    // moves by whole grid steps on the few images where a value lies within round-off of a
    // rounding boundary (measured: 0.25-0.5% of the images beyond 1e-3, and an argmax or two).
    torch::Tensor moved = (perturbed - logits).abs().amax(1);
    const int64_t self_beyond =
        moved.gt(logits.abs().amax(1).clamp_min(1.0) * 1e-3).sum().item<int64_t>();
    std::cout << stage << ": ctmq against itself at 1 ulp of input: " << self_beyond
              << " images beyond 1e-3, largest change " << moved.max().item<double>() << std::endl;
    if (stage == "pretrain") EXPECT_EQ(self_beyond, 0);
    write_raw(dir / (stage + ".logits"), logits);
    const nlohmann::json eval =
        run_json("--threads 2 eval --json --checkpoint " + checkpoint(stage) + " " + eval_flags());
    ctmq_top1.push_back(eval.value("top1", -100.0) / 100.0);  // eval prints percent
    ctmq_stage.push_back(stage);
    // `ctmq eval` scores these very logits.
    EXPECT_NEAR(ctmq_top1.back(),
                logits.argmax(1).eq(labels).to(torch::kDouble).mean().item<double>(), 1e-9)
        << stage;
    cases.push_back({{"kind", "compare"},
                     {"name", stage},
                     {"model", model},
                     {"input", dir / "images.f32"},
                     {"shape", x.sizes().vec()},
                     {"expected", dir / (stage + ".logits")},
                     {"batch", 250}});
    cases.push_back({{"kind", "dataset"},
                     {"name", stage + "-dataset"},
                     {"model", model},
                     {"images", CTMQ_FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz"},
                     {"labels", CTMQ_FASHION_MNIST_DIR "/t10k-labels-idx1-ubyte.gz"},
                     {"indices", dir / "indices.i64"},
                     {"batch", 250}});
  }
  const nlohmann::json results = run_onnxruntime(cases, dir.str(), 2);
  ASSERT_EQ(results.size(), cases.size());
  for (size_t i = 0; i < ctmq_top1.size(); ++i) {
    const nlohmann::json& same_input = results[2 * i];
    const nlohmann::json& own_input = results[2 * i + 1];
    std::cout << same_input.dump() << "\n" << own_input.at("top1") << std::endl;
    // The float network: onnxruntime and LibTorch differ by float round-off alone, so every
    // image's logits agree within 1e-3 (relative to the largest logit where it exceeds 1), and
    // an argmax can differ only where the two largest logits lie within that round-off of each
    // other: at most 0.1% of the images.
    // A quantized network cannot agree on every image, on any CPU: onnxruntime's kernels
    // (chosen by the CPU, as LibTorch's are) round differently in every layer, and where that
    // moves a value across a grid boundary the logits move by whole grid steps (the 1-ulp check
    // above shows ctmq itself doing so). Those images are bounded at 2%. Their argmax may
    // change too; elsewhere the logits agree to round-off, so an argmax can differ only on
    // them or on a near tie: the argmax bound is the crossing bound.
    const double within = same_input.at("images_within_tolerance").get<double>();
    const double agree = same_input.at("argmax_agree").get<double>();
    if (ctmq_stage[i] == "pretrain") {
      EXPECT_EQ(within, kImages) << same_input.dump();
      EXPECT_GE(agree, 0.999 * kImages) << same_input.dump();
    } else {
      EXPECT_GE(within, 0.98 * kImages) << same_input.dump();
      EXPECT_GE(agree, 0.98 * kImages) << same_input.dump();
    }
    // The deployer's preparation from the metadata alone (uint8 / 255, mean, std) scores the
    // same Top-1 as `ctmq eval`, to the same 0.1%.
    EXPECT_NEAR(own_input.at("top1").get<double>(), ctmq_top1[i], 0.001) << own_input.dump();
    const nlohmann::json& meta = own_input.at("metadata");
    EXPECT_EQ(meta.value("num_classes", ""), "10");
    EXPECT_EQ(meta.value("dataset", ""), "fashion-mnist");
    EXPECT_NE(meta.value("class_names", "").find("Ankle boot"), std::string::npos);
    EXPECT_FALSE(meta.value("ctmq.stage", "").empty());
  }
#endif
}

void ExportCommand::check_native_export() {
  TempDir dir("export-native");
  struct Expectation {
    std::string stage;
    double min_ratio;
  };
  for (const Expectation& e :
       {Expectation{"c0-w1a1", 10.0}, Expectation{"c0-w2a2", 10.0}, Expectation{"c0-w4a4", 6.0}}) {
    const std::string out = dir / (e.stage + ".ctmqx");
    const nlohmann::json exported =
        run_json("export --checkpoint " + checkpoint(e.stage) + " --out " + out);
    std::cout << exported.dump() << std::endl;
    EXPECT_EQ(exported.value("format", ""), "native");
    EXPECT_GE(exported.value("ratio_vs_checkpoint", 0.0), e.min_ratio) << exported.dump();
    if (e.stage != "c0-w2a2") continue;  // each `ctmq eval` reads the dataset: one pair
    const nlohmann::json from_checkpoint = run_json("--threads 2 eval --json --checkpoint " +
                                                    checkpoint(e.stage) + " " + eval_flags(500));
    const nlohmann::json from_export =
        run_json("--threads 2 eval --json --exported " + out + " " + eval_flags(500));
    EXPECT_EQ(from_export.value("top1", -1.0), from_checkpoint.value("top1", -2.0)) << e.stage;
    EXPECT_NEAR(from_export.value("loss", -1.0), from_checkpoint.value("loss", -2.0), 1e-5);
  }
}

}  // namespace
}  // namespace ctmq::test
