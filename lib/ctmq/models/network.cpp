#include "ctmq/models/network.h"

#include <functional>
#include <map>

#include "ctmq/core/errors.h"
#include "ctmq/models/batch_norm.h"
#include "ctmq/models/quant_layers.h"
#include "ctmq/models/resnet.h"
#include "ctmq/quant/bits.h"

namespace ctmq {
namespace {

using NetworkFactory = std::function<std::shared_ptr<QuantNetworkImpl>(const NetworkConfig&)>;

const std::map<Arch, NetworkFactory>& registry() {
  static const std::map<Arch, NetworkFactory> factories = {
      {Arch::kResNet18, [](const NetworkConfig& c) { return make_resnet(c, resnet18_layout()); }},
      {Arch::kResNet34, [](const NetworkConfig& c) { return make_resnet(c, resnet34_layout()); }},
      {Arch::kResNet20, [](const NetworkConfig& c) { return make_resnet(c, resnet20_layout()); }},
      {Arch::kResNet32, [](const NetworkConfig& c) { return make_resnet(c, resnet32_layout()); }},
  };
  return factories;
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t count = 0;
  for (const auto& p : module.parameters()) count += p.numel();
  return count;
}

}  // namespace

NetworkConfig network_config(const ModelSpec& model, const QuantSpec& quant, int64_t in_channels) {
  NetworkConfig config;
  config.arch = model.arch;
  config.in_channels = in_channels;
  config.num_classes = model.num_classes;
  config.first_last_bits = static_cast<int>(model.first_last_bits);
  config.block = model.block;
  config.weight_quantizer = quant.weights;
  config.activation_quantizer = quant.activations;
  config.weight_granularity = quant.weight_granularity;
  return config;
}

void QuantNetworkImpl::set_bits(int w_bits, int a_bits) {
  check_bits(w_bits, "weight bits");
  check_bits(a_bits, "activation bits");
  w_bits_ = w_bits;
  a_bits_ = a_bits;
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto aware = std::dynamic_pointer_cast<BitsAware>(module)) {
      aware->set_stage_bits(w_bits, a_bits);
    }
  }
}

std::vector<LayerSummary> QuantNetworkImpl::layer_summaries() const {
  std::vector<LayerSummary> rows;
  for (const auto& item : named_modules("", /*include_self=*/false)) {
    const auto& module = item.value();
    if (auto layer = std::dynamic_pointer_cast<QuantLayer>(module)) {
      rows.push_back({item.key(), layer->kind(), layer->weight_bits(), layer->activation_bits(),
                      parameter_count(*module)});
    } else if (std::dynamic_pointer_cast<BatchNorm2dImpl>(module)) {
      rows.push_back({item.key(), "batchnorm", 32, 32, parameter_count(*module)});
    }
  }
  return rows;
}

void QuantNetworkImpl::set_batch_norm_sync(std::shared_ptr<BatchNormSync> sync) {
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto bn = std::dynamic_pointer_cast<BatchNorm2dImpl>(module)) bn->set_sync(sync);
  }
}

std::vector<std::string> QuantNetworkImpl::no_decay_parameter_names() const {
  std::vector<std::string> names;
  for (const auto& item : named_modules("", /*include_self=*/false)) {
    const auto& module = item.value();
    const bool all = std::dynamic_pointer_cast<BatchNorm2dImpl>(module) ||
                     std::dynamic_pointer_cast<WeightQuantizerImpl>(module) ||
                     std::dynamic_pointer_cast<ActivationQuantizerImpl>(module);
    for (const auto& p : module->named_parameters(/*recurse=*/false)) {
      if (all || p.key() == "bias") names.push_back(item.key() + "." + p.key());
    }
  }
  return names;
}

void QuantNetworkImpl::set_weights_prequantized(bool on) {
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto layer = std::dynamic_pointer_cast<QuantLayer>(module)) {
      layer->set_weights_prequantized(on);
    }
  }
}

std::shared_ptr<QuantNetworkImpl> make_network(const NetworkConfig& config) {
  const auto& factories = registry();
  const auto& factory = factories.at(config.arch);
  if (config.in_channels < 1) {
    throw SpecError("network: input channel count must be positive, got " +
                    std::to_string(config.in_channels));
  }
  if (config.num_classes < 2) {
    throw SpecError("network: need at least 2 classes, got " + std::to_string(config.num_classes));
  }
  check_bits(config.first_last_bits, "network: first and last layer bits");
  auto network = factory(config);
  network->set_bits(kFloatBits, kFloatBits);
  return network;
}

}  // namespace ctmq
