#pragma once

#include <torch/torch.h>

#include <memory>

#include "ctmq/models/network.h"
#include "ctmq/spec/spec.h"

namespace ctmq {

/// A fresh optimizer for one stage. Two parameter groups: weights with the spec's weight decay,
/// and the network's no-decay parameters (BatchNorm, biases, quantizer scales) without it.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& spec,
                                                        QuantNetworkImpl& network, double lr);

/// Sets the learning rate of every parameter group.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace ctmq
