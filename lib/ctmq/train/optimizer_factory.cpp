#include "ctmq/train/optimizer_factory.h"

#include <set>

#include "ctmq/core/errors.h"

namespace ctmq {
namespace {

/// Two groups: `decay` options for the weights, the same options without weight decay for the
/// no-decay parameters.
template <typename OptimizerType, typename Options>
std::unique_ptr<torch::optim::Optimizer> with_two_groups(Options decay,
                                                         std::vector<torch::Tensor> decay_params,
                                                         std::vector<torch::Tensor> plain_params) {
  Options plain = decay;
  plain.weight_decay(0.0);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::move(decay_params), std::make_unique<Options>(decay));
  groups.emplace_back(std::move(plain_params), std::make_unique<Options>(plain));
  return std::make_unique<OptimizerType>(groups, decay);
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& spec,
                                                        QuantNetworkImpl& network, double lr) {
  auto no_decay_names = network.no_decay_parameter_names();
  std::set<std::string> no_decay(no_decay_names.begin(), no_decay_names.end());
  std::vector<torch::Tensor> decay_params, plain_params;
  for (const auto& item : network.named_parameters(true)) {
    (no_decay.count(item.key()) ? plain_params : decay_params).push_back(item.value());
  }
  switch (spec.name) {
    case OptimizerKind::kSgd:
      return with_two_groups<torch::optim::SGD>(torch::optim::SGDOptions(lr)
                                                    .momentum(spec.momentum)
                                                    .nesterov(spec.nesterov && spec.momentum > 0)
                                                    .weight_decay(spec.weight_decay),
                                                decay_params, plain_params);
    case OptimizerKind::kAdam:
      return with_two_groups<torch::optim::Adam>(
          torch::optim::AdamOptions(lr).weight_decay(spec.weight_decay), decay_params,
          plain_params);
    case OptimizerKind::kAdamW:
      return with_two_groups<torch::optim::AdamW>(
          torch::optim::AdamWOptions(lr).weight_decay(spec.weight_decay), decay_params,
          plain_params);
  }
  throw Error("make_optimizer: unhandled optimizer kind");
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    // OptimizerOptions has a virtual set_lr only from LibTorch 1.12 on; every optimizer here
    // has it, so use it directly.
    group.options().set_lr(lr);
  }
}

}  // namespace ctmq
