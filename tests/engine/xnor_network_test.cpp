// The XNOR engine against the float path (ExportedModel::forward, the inference form of
// models/inference_form.h) on exported W1A1 networks: equal Top-1 and logits within 1e-4
// relative, the criterion. With a 3x3 stem the two compute the same stream to the bit
// and differ only by the classifier's round-off; with ImageNet's 7x7 stem the stem and
// downsample round differently (float on both, in their own summation orders).

#include "ctmq/engine/xnor_network.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <filesystem>
#include <sstream>

#include "ctmq/data/small_datasets.h"
#include "ctmq/io/export.h"
#include "ctmq/io/exported_model.h"
#include "ctmq/models/batch_norm.h"
#include "support/prerequisite.h"
#include "support/temp_dir.h"
#include "support/tiny_network.h"

namespace ctmq::test {
namespace {

using engine::KernelIsa;
using engine::XnorNetwork;

std::vector<KernelIsa> network_isas() {
  std::vector<KernelIsa> isas = {KernelIsa::kPortable};
  if (engine::cpu_has_avx2()) isas.push_back(KernelIsa::kAvx2);
  return isas;
}

// BatchNorm statistics and affine parameters away from their initial values, as after
// training: with mean 0, bias 0 a binary conv's output is 0 wherever its dot product is, and
// sign() of the float path's rounding noise would decide it.
void randomize_batch_norms(QuantNetworkImpl& network) {
  torch::NoGradGuard no_grad;
  for (const auto& module : network.modules()) {
    auto bn = std::dynamic_pointer_cast<BatchNorm2dImpl>(module);
    if (!bn) continue;
    bn->weight.uniform_(0.5, 1.5).mul_(torch::where(torch::rand_like(bn->weight).lt(0.1), -1, 1));
    bn->bias.normal_(0, 0.5);
    bn->running_mean.normal_(0, 20);
    bn->running_var.uniform_(50, 400);
  }
}

// A W1A1 network with random weights, exported and loaded back.
ExportedModel exported_w1a1(const NetworkConfig& config, const std::string& path, uint64_t seed) {
  torch::manual_seed(seed);
  auto network = make_network(config);
  network->set_bits(1, 1);
  randomize_batch_norms(*network);
  network->eval();
  export_network(*network, config, path);
  return ExportedModel::load(path);
}

void expect_same_logits(const torch::Tensor& engine, const torch::Tensor& reference,
                        const std::string& what) {
  ASSERT_EQ(engine.sizes(), reference.sizes()) << what;
  // 1e-4 relative to the logits' scale (the criterion): the classifier's float32
  // round-off, and with a 7x7 stem the stem's and the downsample's, carried through the
  // residual stream.
  const double scale = reference.abs().max().item<double>();
  const double worst = (engine - reference).abs().max().item<double>();
  EXPECT_LE(worst, 1e-4 * scale) << what << ": logits differ by " << worst << " (scale " << scale
                                 << ")";
  EXPECT_TRUE(torch::equal(engine.argmax(1), reference.argmax(1))) << what << ": Top-1 differs";
}

struct NetworkCase {
  std::string block;
  int64_t size;
};

void PrintTo(const NetworkCase& c, std::ostream* os) {
  *os << c.block << " at " << c.size << "x" << c.size;
}

class XnorResNet20 : public ::testing::TestWithParam<NetworkCase> {};

TEST_P(XnorResNet20, MatchesTheFloatPathOnRandomInputs) {
  const NetworkCase& c = GetParam();
  TempDir dir("xnor");
  ExportedModel model = exported_w1a1(tiny_network_config(c.block, "dorefa", "pact", 10),
                                      dir.path() + "/model.ctmqx", 5);
  torch::manual_seed(6);
  const torch::Tensor x = torch::randn({3, 1, c.size, c.size});
  const torch::Tensor reference = model.forward(x);
  for (KernelIsa isa : network_isas()) {
    XnorNetwork engine(model.network(), isa);
    EXPECT_EQ(engine.binary_layers(), c.block == "basic" ? 20 : 18);
    expect_same_logits(engine.forward(x), reference, c.block + " " + engine::kernel_isa_name(isa));
  }
}

// Odd and even sizes: the stride-2 convolutions see both border cases.
INSTANTIATE_TEST_SUITE_P(Blocks, XnorResNet20,
                         // 3, 2 and 1 pixels: feature maps of 1-2 pixels, where every
                         // output is a border output and most taps are padding.
                         ::testing::Values(NetworkCase{"basic", 28}, NetworkCase{"bireal", 28},
                                           NetworkCase{"basic", 13}, NetworkCase{"bireal", 11},
                                           NetworkCase{"basic", 3}, NetworkCase{"bireal", 2},
                                           NetworkCase{"bireal", 1}),
                         [](const ::testing::TestParamInfo<NetworkCase>& info) {
                           return info.param.block + "_" + std::to_string(info.param.size);
                         });

TEST(XnorResNet18, MatchesTheFloatPathAt224) {
  TempDir dir("xnor18");
  for (const std::string block : {"basic", "bireal"}) {
    NetworkConfig config = tiny_network_config(block, "dorefa", "pact", 1000);
    config.arch = Arch::kResNet18;
    config.in_channels = 3;
    ExportedModel model = exported_w1a1(config, dir.path() + "/" + block + ".ctmqx", 7);
    torch::manual_seed(8);
    // Two images: the engine runs them one at a time (its activations per image outgrow the
    // caches), and a channels-last batch, as `ctmq bench infer` gives it.
    const torch::Tensor x =
        torch::randn({2, 3, 224, 224}).contiguous(torch::MemoryFormat::ChannelsLast);
    const torch::Tensor reference = model.forward(x);
    // And an odd size whose stem, max-pool and stride-2 layers all end on a border pixel.
    const torch::Tensor odd = torch::randn({2, 3, 33, 33});
    const torch::Tensor odd_reference = model.forward(odd);
    for (KernelIsa isa : network_isas()) {
      XnorNetwork engine(model.network(), isa);
      expect_same_logits(engine.forward(x), reference,
                         "resnet18 " + block + " " + engine::kernel_isa_name(isa));
      expect_same_logits(engine.forward(odd), odd_reference,
                         "resnet18 " + block + " 33x33 " + engine::kernel_isa_name(isa));
    }
  }
}

// Rows are independent, so the logits are the same bits whatever the threads; and the row loops
// really fork (a build without OpenMP would run them on one thread whatever --threads says).
TEST(XnorNetwork, ThreadsSplitRowsAndChangeNoBit) {
  const int saved_threads = at::get_num_threads();
  TempDir dir("xnorthreads");
  NetworkConfig config = tiny_network_config("bireal", "dorefa", "pact", 1000);
  config.arch = Arch::kResNet18;
  config.in_channels = 3;
  ExportedModel model = exported_w1a1(config, dir.path() + "/model.ctmqx", 11);
  XnorNetwork engine(model.network());
  torch::manual_seed(12);
  // One image: the threads split each layer's rows.
  const torch::Tensor x = torch::randn({1, 3, 224, 224});
  at::set_num_threads(1);
  EXPECT_EQ(engine::row_threads(), 1);
  const torch::Tensor one = engine.forward(x);
  for (int threads : {2, 3}) {
    at::set_num_threads(threads);
    EXPECT_EQ(engine::row_threads(), threads);
    EXPECT_TRUE(torch::equal(engine.forward(x), one)) << threads << " threads";
  }
  at::set_num_threads(saved_threads);
}

TEST(XnorNetwork, ThreadsTakeWholeImagesAndChangeNoBit) {
  const int saved_threads = at::get_num_threads();
  TempDir dir("xnorpieces");
  ExportedModel model = exported_w1a1(tiny_network_config("bireal", "dorefa", "pact", 10),
                                      dir.path() + "/model.ctmqx", 13);
  XnorNetwork engine(model.network());
  engine.set_profiling(true);
  torch::manual_seed(14);
  // Five images: pieces of 3 and 2 at two threads, 2, 2 and 1 at three.
  const torch::Tensor x = torch::randn({5, 1, 28, 28});
  at::set_num_threads(1);
  const torch::Tensor one = engine.forward(x);
  for (int threads : {2, 3}) {
    at::set_num_threads(threads);
    EXPECT_TRUE(torch::equal(engine.forward(x), one)) << threads << " threads";
  }
  // Each image alone gives its row of the batch's logits.
  for (int64_t i = 0; i < x.size(0); ++i) {
    EXPECT_TRUE(torch::equal(engine.forward(x.slice(0, i, i + 1)), one.slice(0, i, i + 1))) << i;
  }
  // The portable kernels, whose stem runs through LibTorch, on pieces of other sizes too.
  XnorNetwork portable(model.network(), KernelIsa::kPortable);
  at::set_num_threads(1);
  const torch::Tensor portable_one = portable.forward(x);
  at::set_num_threads(2);
  EXPECT_TRUE(torch::equal(portable.forward(x), portable_one));
  // Images made in inference mode (as `ctmq eval` makes them): every thread runs its pieces in
  // inference mode too, or LibTorch's stem would refuse them for autograd.
  torch::Tensor inference_images;
  {
    torch::InferenceMode inference;
    inference_images = x.clone();
  }
  EXPECT_TRUE(torch::equal(portable.forward(inference_images), portable_one));
  at::set_num_threads(saved_threads);
  // The pieces' step times add up into one entry per step, whatever thread ran them.
  const auto times = engine.step_times();
  ASSERT_EQ(times.size(), 1u + 18u + 2u + 1u);
  for (const auto& t : times) EXPECT_GT(t.seconds, 0.0) << t.name;
}

TEST(XnorNetwork, ProfilesEveryStep) {
  TempDir dir("xnorprof");
  ExportedModel model = exported_w1a1(tiny_network_config("bireal", "dorefa", "pact", 10),
                                      dir.path() + "/model.ctmqx", 9);
  XnorNetwork engine(model.network());
  engine.set_profiling(true);
  const torch::Tensor x = torch::randn({2, 1, 28, 28});
  engine.forward(x);
  engine.forward(x);
  const auto times = engine.step_times();
  // stem, 9 blocks x 2 binary convs, 2 float downsamples, head
  ASSERT_EQ(times.size(), 1u + 18u + 2u + 1u);
  EXPECT_EQ(times.front().name, "stem");
  EXPECT_EQ(times.back().name, "head");
  for (const auto& t : times) EXPECT_GT(t.seconds, 0.0) << t.name;
}

TEST(XnorNetwork, RunsNetworksThatAreNotW1A1InFloat) {
  TempDir dir("xnorfloat");
  const NetworkConfig config = tiny_network_config("basic", "dorefa", "pact", 10);
  torch::manual_seed(10);
  auto network = make_network(config);
  network->set_bits(2, 2);
  network->eval();
  const std::string path = dir.path() + "/model.ctmqx";
  export_network(*network, config, path);
  ExportedModel model = ExportedModel::load(path);
  // It says so: --engine xnor would otherwise report float speed as the engine's.
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  spdlog::default_logger()->sinks().push_back(sink);
  XnorNetwork engine(model.network());
  spdlog::default_logger()->sinks().pop_back();
  EXPECT_NE(log.str().find("W2A2, not W1A1: all of it runs in float"), std::string::npos)
      << log.str();
  EXPECT_EQ(engine.binary_layers(), 0);
  const torch::Tensor x = torch::randn({2, 1, 28, 28});
  EXPECT_TRUE(torch::equal(engine.forward(x), model.forward(x)));
}

TEST(XnorNetwork, SameTop1AsTheFloatPathOnFashionMnist) {
  const std::string root = CTMQ_FASHION_MNIST_DIR;
  CTMQ_REQUIRE(std::filesystem::exists(root + "/t10k-images-idx3-ubyte.gz") ||
                   std::filesystem::exists(root + "/t10k-images-idx3-ubyte"),
               "dataset-fashion-mnist (" CTMQ_FASHION_MNIST_DIR ")");
  TempDir dir("xnorfmnist");
  ExportedModel model = exported_w1a1(tiny_network_config("bireal", "dorefa", "pact", 10),
                                      dir.path() + "/model.ctmqx", 12);
  const data::ImageTensorSet test_set = data::read_fashion_mnist(root, /*train=*/false);
  XnorNetwork engine(model.network());
  const int64_t images = 2000;  // of 10,000: the float path is the slow half of this test
  for (int64_t start = 0; start < images; start += 500) {
    const torch::Tensor x = test_set.images.slice(0, start, start + 500)
                                .to(torch::kFloat)
                                .div(255)
                                .sub(0.2860)
                                .div(0.3530);
    expect_same_logits(engine.forward(x), model.forward(x),
                       "images " + std::to_string(start) + "+");
  }
}

}  // namespace
}  // namespace ctmq::test
