// The optimizer's state saved by parameter name: restored, the next step is the one the
// original optimizer takes; LibTorch's own optimizer archive reads back the same; bad states are
// errors naming the file.

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "ctmq/core/errors.h"
#include "ctmq/io/optimizer_state.h"

namespace ctmq {
namespace {

torch::nn::Sequential make_model() {
  return torch::nn::Sequential(torch::nn::Linear(6, 5), torch::nn::BatchNorm1d(5),
                               torch::nn::ReLU(), torch::nn::Linear(5, 3));
}

/// Two groups like ctmq's (weights with decay, the rest without), in the model's order.
std::vector<torch::optim::OptimizerParamGroup> two_groups(torch::nn::Sequential& model) {
  std::vector<torch::Tensor> weights, rest;
  for (const auto& item : model->named_parameters()) {
    (item.key().find("weight") != std::string::npos && item.value().dim() == 2 ? weights : rest)
        .push_back(item.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(weights);
  groups.emplace_back(rest);
  return groups;
}

using OptimizerFactory =
    std::function<std::unique_ptr<torch::optim::Optimizer>(torch::nn::Sequential&)>;

std::unique_ptr<torch::optim::Optimizer> sgd(torch::nn::Sequential& model) {
  return std::make_unique<torch::optim::SGD>(
      two_groups(model), torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-3));
}
std::unique_ptr<torch::optim::Optimizer> adam(torch::nn::Sequential& model) {
  return std::make_unique<torch::optim::Adam>(two_groups(model),
                                              torch::optim::AdamOptions(0.01).amsgrad(true));
}
std::unique_ptr<torch::optim::Optimizer> adamw(torch::nn::Sequential& model) {
  return std::make_unique<torch::optim::AdamW>(two_groups(model), torch::optim::AdamWOptions(0.01));
}

void train_step(torch::nn::Sequential& model, torch::optim::Optimizer& optimizer, int seed) {
  torch::manual_seed(seed);
  auto x = torch::randn({8, 6});
  auto y = torch::randint(0, 3, {8});
  optimizer.zero_grad();
  torch::nn::functional::cross_entropy(model->forward(x), y).backward();
  optimizer.step();
}

void copy_weights(torch::nn::Sequential& from, torch::nn::Sequential& to) {
  torch::NoGradGuard no_grad;
  auto source = from->named_parameters();
  for (auto& item : to->named_parameters()) item.value().copy_(source[item.key()]);
  auto buffers = from->named_buffers();
  for (auto& item : to->named_buffers()) item.value().copy_(buffers[item.key()]);
}

void expect_equal_states(const StateDict& a, const StateDict& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;
  }
}

class OptimizerState : public ::testing::TestWithParam<std::pair<const char*, OptimizerFactory>> {};

TEST_P(OptimizerState, RestoredByNameTheNextStepIsTheOriginalOnes) {
  const auto& make_optimizer = GetParam().second;
  auto model = make_model();
  auto optimizer = make_optimizer(model);
  train_step(model, *optimizer, 1);
  train_step(model, *optimizer, 2);
  const StateDict saved = optimizer_state_by_name(*optimizer, *model);
  EXPECT_FALSE(saved.empty());

  auto resumed = make_model();
  copy_weights(model, resumed);
  auto resumed_optimizer = make_optimizer(resumed);
  restore_optimizer_state(*resumed_optimizer, *resumed, saved, "state.pt");
  expect_equal_states(optimizer_state_by_name(*resumed_optimizer, *resumed), saved);

  train_step(model, *optimizer, 3);
  train_step(resumed, *resumed_optimizer, 3);
  auto expected = model->named_parameters();
  for (const auto& item : resumed->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), expected[item.key()])) << item.key();
  }
}

TEST_P(OptimizerState, LibTorchsOwnArchiveReadsBackTheSameState) {
  const auto& make_optimizer = GetParam().second;
  auto model = make_model();
  auto optimizer = make_optimizer(model);
  train_step(model, *optimizer, 1);
  torch::serialize::OutputArchive out;
  optimizer->save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  std::istringstream in_bytes(bytes.str());
  torch::serialize::InputArchive in;
  in.load_from(in_bytes);
  expect_equal_states(optimizer_state_from_libtorch_archive(in, *optimizer, *model),
                      optimizer_state_by_name(*optimizer, *model));
}

INSTANTIATE_TEST_SUITE_P(Kinds, OptimizerState,
                         ::testing::Values(std::make_pair("sgd", OptimizerFactory(sgd)),
                                           std::make_pair("adam", OptimizerFactory(adam)),
                                           std::make_pair("adamw", OptimizerFactory(adamw))),
                         [](const auto& info) { return std::string(info.param.first); });

TEST(OptimizerStateErrors, WrongShapeAndUnknownParameterNameTheFile) {
  auto model = make_model();
  auto optimizer = sgd(model);
  train_step(model, *optimizer, 1);
  StateDict saved = optimizer_state_by_name(*optimizer, *model);

  StateDict wrong_shape = saved;
  wrong_shape.at("0.weight/momentum_buffer") = torch::zeros({2, 2});
  try {
    restore_optimizer_state(*optimizer, *model, wrong_shape, "run/resume/pretrain.pt");
    FAIL() << "a wrong shape was accepted";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("run/resume/pretrain.pt"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("0.weight/momentum_buffer"), std::string::npos);
  }
  StateDict unknown = saved;
  unknown["9.weight/momentum_buffer"] = torch::zeros({1});
  EXPECT_THROW(restore_optimizer_state(*optimizer, *model, unknown, "p"), IoError);
}

}  // namespace
}  // namespace ctmq
