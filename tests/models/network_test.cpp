// Networks at every CTMQ depth: training works, state moves between depths, API details.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "ctmq/core/errors.h"
#include "ctmq/models/batch_norm.h"
#include "ctmq/models/network.h"
#include "support/tiny_network.h"

namespace ctmq {
namespace {

NetworkConfig tiny_config(const std::string& block, const std::string& wq, const std::string& aq) {
  return test::tiny_network_config(block, wq, aq, /*num_classes=*/4);
}

struct TinyData {
  torch::Tensor images;
  torch::Tensor labels;
};

TinyData tiny_data() {
  torch::manual_seed(123);
  return {torch::randn({16, 1, 8, 8}), torch::randint(0, 4, {16}, torch::kLong)};
}

double train_steps(QuantNetworkImpl& net, const TinyData& data, int steps, double* first_loss) {
  torch::optim::Adam optimizer(net.parameters(), torch::optim::AdamOptions(0.01));
  net.train();
  double loss_value = 0;
  for (int step = 0; step < steps; ++step) {
    optimizer.zero_grad();
    torch::Tensor loss = torch::cross_entropy_loss(net.forward(data.images), data.labels);
    loss.backward();
    optimizer.step();
    loss_value = loss.item<double>();
    if (step == 0 && first_loss) *first_loss = loss_value;
  }
  return loss_value;
}

struct Depth {
  int w_bits;
  int a_bits;
};

class NetworkAtDepth
    : public ::testing::TestWithParam<std::tuple<std::string, std::string, Depth>> {};

TEST_P(NetworkAtDepth, ForwardBackwardAndLossDecreases) {
  const auto& [block, family, depth] = GetParam();
  const bool lsq = family == "lsq";
  torch::manual_seed(7);
  auto net = make_network(tiny_config(block, lsq ? "lsq" : "dorefa", lsq ? "lsq" : "pact"));
  net->set_bits(depth.w_bits, depth.a_bits);
  EXPECT_EQ(net->weight_bits(), depth.w_bits);
  EXPECT_EQ(net->activation_bits(), depth.a_bits);
  const TinyData data = tiny_data();
  double first = 0;
  const double last = train_steps(*net, data, 8, &first);
  EXPECT_TRUE(std::isfinite(last));
  EXPECT_LT(last, first) << block << " " << family << " W" << depth.w_bits << "A" << depth.a_bits;
  for (const auto& p : net->named_parameters()) {
    if (p.value().grad().defined()) {
      EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllDepths, NetworkAtDepth,
                         ::testing::Combine(::testing::Values("basic", "bireal"),
                                            ::testing::Values("dorefa", "lsq"),
                                            ::testing::Values(Depth{32, 32}, Depth{4, 4},
                                                              Depth{3, 3}, Depth{2, 2},
                                                              Depth{1, 1})),
                         [](const auto& info) {
                           const Depth d = std::get<2>(info.param);
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param) + "_W" +
                                  std::to_string(d.w_bits) + "A" + std::to_string(d.a_bits);
                         });

std::map<std::string, torch::Tensor> state_of(const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> state;
  for (const auto& p : module.named_parameters()) state[p.key()] = p.value().detach().clone();
  for (const auto& b : module.named_buffers()) state[b.key()] = b.value().clone();
  return state;
}

void load_state(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& state) {
  torch::NoGradGuard no_grad;
  size_t loaded = 0;
  for (auto& p : module.named_parameters()) {
    p.value().copy_(state.at(p.key()));
    ++loaded;
  }
  for (auto& b : module.named_buffers()) {
    b.value().copy_(state.at(b.key()));
    ++loaded;
  }
  EXPECT_EQ(loaded, state.size());
}

std::set<std::string> keys(const std::map<std::string, torch::Tensor>& state) {
  std::set<std::string> out;
  for (const auto& item : state) out.insert(item.first);
  return out;
}

void expect_moves_between(const NetworkConfig& config, Depth from, Depth to) {
  torch::manual_seed(8);
  auto source = make_network(config);
  source->set_bits(from.w_bits, from.a_bits);
  train_steps(*source, tiny_data(), 2, nullptr);
  const auto trained = state_of(*source);

  auto target = make_network(config);
  target->set_bits(to.w_bits, to.a_bits);
  EXPECT_EQ(keys(state_of(*target)), keys(trained));
  load_state(*target, trained);
  target->set_bits(to.w_bits, to.a_bits);
  const auto loaded = state_of(*target);
  for (const auto& [name, value] : trained) {
    EXPECT_TRUE(torch::equal(loaded.at(name), value)) << name;
  }
  // The loaded network trains at its own depth.
  target->train();
  torch::Tensor out = target->forward(tiny_data().images);
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
}

TEST(NetworkState, FourBitWeightsLoadIntoThreeBitNetwork) {
  expect_moves_between(tiny_config("basic", "lsq", "lsq"), {4, 4}, {3, 3});
  expect_moves_between(tiny_config("bireal", "dorefa", "pact"), {4, 4}, {3, 3});
}

TEST(NetworkState, BinaryWeightsLoadIntoFloatNetwork) {
  expect_moves_between(tiny_config("basic", "dorefa", "pact"), {1, 1}, {32, 32});
  expect_moves_between(tiny_config("bireal", "lsq", "lsq"), {1, 1}, {32, 32});
}

TEST(Network, FirstAndLastLayersKeepTheirBits) {
  NetworkConfig config = tiny_config("basic", "dorefa", "pact");
  config.first_last_bits = 8;
  auto net = make_network(config);
  net->set_bits(2, 3);
  const auto rows = net->layer_summaries();
  ASSERT_FALSE(rows.empty());
  int64_t total = 0;
  for (const auto& row : rows) {
    total += row.parameters;
    if (row.name == "conv1" || row.name == "fc") {
      EXPECT_EQ(row.w_bits, 8) << row.name;
      EXPECT_EQ(row.a_bits, 8) << row.name;
    } else if (row.kind == "conv") {
      EXPECT_EQ(row.w_bits, 2) << row.name;
      EXPECT_EQ(row.a_bits, 3) << row.name;
    }
  }
  EXPECT_EQ(total, [&] {
    int64_t n = 0;
    for (const auto& p : net->parameters()) n += p.numel();
    return n;
  }());
  EXPECT_EQ(std::count_if(rows.begin(), rows.end(), [](auto& r) { return r.kind == "conv"; }),
            21);  // stem + 18 block convs + 2 downsample convs
}

TEST(Network, NoDecayParametersAreBatchNormBiasesAndQuantizerScales) {
  auto net = make_network(tiny_config("basic", "lsq", "pact"));
  const auto names = net->no_decay_parameter_names();
  const std::set<std::string> set(names.begin(), names.end());
  EXPECT_TRUE(set.count("bn1.weight"));
  EXPECT_TRUE(set.count("bn1.bias"));
  EXPECT_TRUE(set.count("fc.bias"));
  EXPECT_TRUE(set.count("layer1.0.conv1.act_q.alpha"));
  EXPECT_TRUE(set.count("layer1.0.conv1.weight_q.step"));
  EXPECT_FALSE(set.count("layer1.0.conv1.weight"));
  EXPECT_FALSE(set.count("fc.weight"));
  for (const auto& name : names) EXPECT_TRUE(net->named_parameters().contains(name)) << name;
}

TEST(Network, BadDepthsAreSpecErrors) {
  // Unknown architecture, block and quantizer names never reach the network: the spec parser
  // refuses them (tests/spec), and so does a checkpoint's reader (tests/io).
  auto net = make_network(tiny_config("basic", "dorefa", "pact"));
  EXPECT_THROW(net->set_bits(0, 4), SpecError);
}

TEST(Network, ImageNetFormsBuildForAnyChannelCount) {
  for (const std::string arch : {"resnet18", "resnet34", "resnet32"}) {
    NetworkConfig config = tiny_config("bireal", "dorefa", "pact");
    config.arch = test::choice<Arch>(arch);
    config.in_channels = 3;
    config.num_classes = 7;
    auto net = make_network(config);
    net->set_bits(1, 1);
    net->eval();
    torch::NoGradGuard no_grad;
    torch::Tensor out = net->forward(torch::randn({2, 3, 32, 32}));
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 7})) << arch;
  }
  EXPECT_NE(make_network(tiny_config("basic", "dorefa", "pact"))->named_parameters().size(), 0u);
}

class CountingSync : public BatchNormSync {
 public:
  torch::Tensor forward(const torch::Tensor& input, const torch::Tensor& weight,
                        const torch::Tensor& bias, torch::Tensor& running_mean,
                        torch::Tensor& running_var, double momentum, double eps) override {
    ++calls;
    return torch::batch_norm(input, weight, bias, running_mean, running_var, true, momentum, eps,
                             false);
  }
  int calls = 0;
};

TEST(BatchNorm2d, MatchesTorchBatchNormAndDelegatesToSync) {
  torch::manual_seed(9);
  BatchNorm2d ours(3);
  torch::nn::BatchNorm2d theirs(3);
  std::set<std::string> a, b;
  for (const auto& p : ours->named_parameters()) a.insert(p.key());
  for (const auto& p : ours->named_buffers()) a.insert(p.key());
  for (const auto& p : theirs->named_parameters()) b.insert(p.key());
  for (const auto& p : theirs->named_buffers()) b.insert(p.key());
  EXPECT_EQ(a, b);
  torch::Tensor x = torch::randn({4, 3, 5, 5});
  EXPECT_TRUE(torch::allclose(ours->forward(x), theirs->forward(x), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(ours->running_mean, theirs->running_mean));
  EXPECT_EQ(ours->num_batches_tracked.item<int64_t>(), 1);
  ours->eval();
  theirs->eval();
  EXPECT_TRUE(torch::allclose(ours->forward(x), theirs->forward(x), 1e-5, 1e-5));

  auto sync = std::make_shared<CountingSync>();
  auto net = make_network(tiny_config("basic", "dorefa", "pact"));
  net->set_batch_norm_sync(sync);
  net->train();
  net->forward(torch::randn({2, 1, 8, 8}));
  EXPECT_EQ(sync->calls, 21);  // every BatchNorm: one per conv
  net->eval();
  net->forward(torch::randn({2, 1, 8, 8}));
  EXPECT_EQ(sync->calls, 21);
  net->set_batch_norm_sync(nullptr);
  net->train();
  net->forward(torch::randn({2, 1, 8, 8}));
  EXPECT_EQ(sync->calls, 21);
}

}  // namespace
}  // namespace ctmq
