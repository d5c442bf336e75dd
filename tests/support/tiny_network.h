#pragma once
// The one small network of the tests: a resnet20 for 1-channel images (Fashion-MNIST's shape).

#include <string>

#include "ctmq/models/network.h"
#include "support/choice.h"

namespace ctmq::test {

/// resnet20 with the named block ("basic" | "bireal") and quantizers, 1 input channel.
inline NetworkConfig tiny_network_config(const std::string& block = "basic",
                                         const std::string& weights = "dorefa",
                                         const std::string& activations = "pact",
                                         int64_t num_classes = 5, int first_last_bits = 32) {
  NetworkConfig config;
  config.arch = Arch::kResNet20;
  config.in_channels = 1;
  config.num_classes = num_classes;
  config.block = choice<BlockKind>(block);
  config.weight_quantizer = choice<WeightMethod>(weights);
  config.activation_quantizer = choice<ActivationMethod>(activations);
  config.first_last_bits = first_last_bits;
  return config;
}

}  // namespace ctmq::test
