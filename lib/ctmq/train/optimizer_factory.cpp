#include "ctmq/train/optimizer_factory.h"

#include <set>

#include "ctmq/core/errors.h"

namespace ctmq {
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& spec,
                                                        QuantNetworkImpl& network, double lr) {
  auto no_decay_names = network.no_decay_parameter_names();
  std::set<std::string> no_decay(no_decay_names.begin(), no_decay_names.end());
  std::vector<torch::Tensor> decay_params, plain_params;
  for (const auto& item : network.named_parameters(true)) {
    (no_decay.count(item.key()) ? plain_params : decay_params).push_back(item.value());
  }
  if (spec.name == "sgd") {
    auto decay = torch::optim::SGDOptions(lr)
                     .momentum(spec.momentum)
                     .nesterov(spec.nesterov && spec.momentum > 0)
                     .weight_decay(spec.weight_decay);
    auto plain = decay;
    plain.weight_decay(0.0);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay_params, std::make_unique<torch::optim::SGDOptions>(decay));
    groups.emplace_back(plain_params, std::make_unique<torch::optim::SGDOptions>(plain));
    return std::make_unique<torch::optim::SGD>(groups, decay);
  }
  if (spec.name == "adam") {
    auto decay = torch::optim::AdamOptions(lr).weight_decay(spec.weight_decay);
    auto plain = decay;
    plain.weight_decay(0.0);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay_params, std::make_unique<torch::optim::AdamOptions>(decay));
    groups.emplace_back(plain_params, std::make_unique<torch::optim::AdamOptions>(plain));
    return std::make_unique<torch::optim::Adam>(groups, decay);
  }
  if (spec.name == "adamw") {
    auto decay = torch::optim::AdamWOptions(lr).weight_decay(spec.weight_decay);
    auto plain = decay;
    plain.weight_decay(0.0);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay_params, std::make_unique<torch::optim::AdamWOptions>(decay));
    groups.emplace_back(plain_params, std::make_unique<torch::optim::AdamWOptions>(plain));
    return std::make_unique<torch::optim::AdamW>(groups, decay);
  }
  throw SpecError("/optimizer/name: unknown optimizer \"" + spec.name + "\"");
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    // OptimizerOptions has a virtual set_lr only from LibTorch 1.12 on; every optimizer here
    // has it, so use it directly.
    group.options().set_lr(lr);
  }
}

}  // namespace ctmq
