// network_to_onnx: every kind of network ctmq trains becomes a model the ONNX checker accepts,
// and onnxruntime computes from it the logits ctmq computes in eval mode.

#include "ctmq/onnx/network_onnx.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "ctmq/core/errors.h"
#include "ctmq/onnx/onnx_graph.h"
#include "support/choice.h"
#include "support/onnxruntime.h"
#include "support/prerequisite.h"
#include "support/temp_dir.h"
#include "support/tiny_network.h"

namespace ctmq::test {
namespace {

struct OnnxCase {
  std::string arch, block, wq, aq;
  int w, a, first_last;
  std::string granularity = "channel";
  int64_t size = 14;  ///< eval images are size x size (14: Bi-Real's ceil-mode pooling at 7x7)
  int export_w = 0;   ///< nonzero: trained at (w, a), exported at (export_w, export_a), as the
  int export_a = 0;   ///< first stage of a new depth sees it before its first batch
  std::string name() const {
    return arch + "_" + block + "_" + wq + "_" + aq + "_W" + std::to_string(w) + "A" +
           std::to_string(a) + "_FL" + std::to_string(first_last) + "_" + granularity + "_" +
           std::to_string(size) +
           (export_w ? "_to_W" + std::to_string(export_w) + "A" + std::to_string(export_a) : "");
  }
};

NetworkConfig case_config(const OnnxCase& p) {
  NetworkConfig c = tiny_network_config(p.block, p.wq, p.aq, 5, p.first_last);
  c.arch = choice<Arch>(p.arch);
  c.weight_granularity = choice<Granularity>(p.granularity);
  if (c.arch == Arch::kResNet18 || c.arch == Arch::kResNet34) c.in_channels = 3;
  return c;
}

// A few SGD steps at (w, a): BatchNorm statistics move and every quantizer is calibrated.
std::shared_ptr<QuantNetworkImpl> trained_network(const NetworkConfig& c, int w, int a) {
  torch::manual_seed(21);
  auto net = make_network(c);
  net->set_bits(w, a);
  net->train();
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  const int64_t size = c.in_channels == 3 ? 32 : 14;
  torch::Tensor x = torch::randn({8, c.in_channels, size, size});
  torch::Tensor y = torch::randint(0, c.num_classes, {8}, torch::kLong);
  for (int i = 0; i < 3; ++i) {
    optimizer.zero_grad();
    torch::cross_entropy_loss(net->forward(x), y).backward();
    optimizer.step();
  }
  net->eval();
  return net;
}

std::string write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

const std::vector<OnnxCase>& all_cases() {
  static const std::vector<OnnxCase> cases = {
      {"resnet20", "basic", "dorefa", "pact", 4, 4, 32},
      {"resnet20", "basic", "lsq", "lsq", 2, 3, 8},
      {"resnet20", "basic", "lsq", "lsq", 2, 2, 32, "layer"},
      {"resnet20", "basic", "dorefa", "pact", 1, 1, 32},
      {"resnet20", "basic", "dorefa", "pact", 1, 1, 1},
      {"resnet20", "bireal", "lsq", "lsq", 1, 1, 32},
      {"resnet20", "bireal", "dorefa", "pact", 3, 3, 4},
      {"resnet20", "bireal", "dorefa", "pact", 8, 8, 2},
      {"resnet20", "basic", "lsq", "pact", 12, 12, 32},
      {"resnet20", "bireal", "dorefa", "lsq", 32, 32, 32},
      {"resnet32", "basic", "lsq", "pact", 16, 2, 16, "layer", 12},
      {"resnet18", "bireal", "dorefa", "pact", 1, 1, 32, "channel", 224},
      {"resnet18", "basic", "lsq", "lsq", 2, 2, 8, "channel", 224},
      {"resnet20", "basic", "lsq", "lsq", 4, 4, 32, "channel", 14, 2, 2},
      {"resnet20", "bireal", "dorefa", "pact", 4, 4, 32, "layer", 14, 3, 3},
  };
  return cases;
}

TEST(NetworkOnnx, CheckerAcceptsEveryKindOfNetwork) {
  // The depths and methods the ONNX test below runs, plus resnet34 and fresh (untrained) float
  // networks, at every depth the writer treats differently.
  for (const OnnxCase& p : all_cases()) {
    if (p.arch == "resnet18") continue;  // checked with onnxruntime below
    auto net = trained_network(case_config(p), p.w, p.a);
    const std::string bytes = network_to_onnx(*net, {{{"num_classes", "5"}}});
    EXPECT_NO_THROW(check_onnx_model(bytes)) << p.name();
  }
  NetworkConfig c = case_config({"resnet34", "bireal", "lsq", "pact", 32, 32, 32});
  auto fresh = make_network(c);
  fresh->eval();
  EXPECT_NO_THROW(check_onnx_model(network_to_onnx(*fresh, {}))) << "resnet34";
}

TEST(NetworkOnnx, UncalibratedQuantizerIsAnError) {
  auto net = make_network(tiny_network_config("basic", "dorefa", "pact"));
  net->set_bits(2, 2);  // PACT's alpha is only set by the first batch at 2 bits
  net->eval();
  try {
    network_to_onnx(*net, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("calibrated"), std::string::npos) << e.what();
  }
}

TEST(NetworkOnnx, MetadataAndSignZeroCase) {
  // An input of zeros makes every first-layer sign see exactly 0: training says +1, ONNX's
  // Sign would say 0. The ONNX test below feeds such images too.
  auto net = trained_network(case_config({"resnet20", "basic", "dorefa", "pact", 1, 1, 1}), 1, 1);
  const std::string bytes = network_to_onnx(*net, {{{"class_names", "[\"a\"]"}}});
  EXPECT_NE(bytes.find("class_names"), std::string::npos);
  EXPECT_NE(bytes.find("DequantizeLinear"), std::string::npos);
}

// The real runtime: each case's ONNX model in onnxruntime against ctmq's eval-mode logits on
// random images (and an all-zero one), one Node process for all cases.
TEST(NetworkOnnx, OnnxruntimeGivesCtmqLogits) {
  CTMQ_REQUIRE(onnxruntime_node_available(), "onnxruntime-node (npm registry)");
  TempDir dir("onnx");
  nlohmann::json cases = nlohmann::json::array();
  for (const OnnxCase& p : all_cases()) {
    const NetworkConfig c = case_config(p);
    auto net = trained_network(c, p.w, p.a);
    if (p.export_w != 0) net->set_bits(p.export_w, p.export_a);
    // Exported before ctmq's first forward: LSQ steps at a new depth are then still to be
    // rescaled, which the export must do as that forward does.
    const std::string model = write_file(dir / (p.name() + ".onnx"), network_to_onnx(*net, {}));
    const int64_t n = p.size >= 224 ? 2 : 16;
    torch::manual_seed(22);
    torch::Tensor x = torch::randn({n, c.in_channels, p.size, p.size});
    x[0].zero_();
    torch::Tensor logits;
    {
      torch::NoGradGuard no_grad;
      logits = net->forward(x);
    }
    write_raw(dir / (p.name() + ".x"), x);
    write_raw(dir / (p.name() + ".y"), logits);
    cases.push_back({{"kind", "compare"},
                     {"name", p.name()},
                     {"model", model},
                     {"input", dir / (p.name() + ".x")},
                     {"shape", x.sizes().vec()},
                     {"expected", dir / (p.name() + ".y")},
                     {"batch", 8}});
  }
  const nlohmann::json results = run_onnxruntime(cases, dir.str());
  ASSERT_EQ(results.size(), cases.size());
  // Float networks agree to round-off on every image. Quantized ones too, except on images where
  // the two runtimes' differently rounded sums fall on both sides of a grid boundary: the logits
  // then move by whole grid steps (tests/commands/export_onnx_test.cpp measures how often ctmq
  // itself does so after one ulp of input change). Pooled over the cases, at most 5% of the
  // images may do that, and at most 1% may change their argmax.
  int64_t images = 0, within = 0, agree = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    std::cout << r.dump() << std::endl;
    images += r.at("images").get<int64_t>();
    within += r.at("images_within_tolerance").get<int64_t>();
    agree += r.at("argmax_agree").get<int64_t>();
    if (all_cases()[i].w == 32 && all_cases()[i].a == 32) {
      EXPECT_EQ(r.at("images_within_tolerance"), r.at("images")) << r.dump();
    }
  }
  EXPECT_GE(within, 0.95 * images);
  EXPECT_GE(agree, 0.99 * images);
}

}  // namespace
}  // namespace ctmq::test
