#pragma once
// Timing of one training step of a network at given depths (the model half of `ctmq bench`).

#include <cstdint>

#include <nlohmann/json.hpp>

#include "ctmq/models/network.h"

namespace ctmq {

/// Builds the network, sets (w_bits, a_bits), and times `steps` forward + backward passes of
/// cross-entropy on a fixed random batch (batch, in_channels, image_size, image_size) after two
/// warm-up steps. Returns {arch, block, weight_quantizer, activation_quantizer, w_bits, a_bits,
/// batch, image_size, threads, steps, ms_per_step, images_per_second}.
nlohmann::json bench_network_step(const NetworkConfig& config, int w_bits, int a_bits,
                                  int64_t batch, int64_t image_size, int steps);

}  // namespace ctmq
