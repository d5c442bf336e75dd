#include "ctmq/models/bench_network.h"

#include <chrono>

#include "ctmq/core/errors.h"

namespace ctmq {

nlohmann::json bench_network_step(const NetworkConfig& config, int w_bits, int a_bits,
                                  int64_t batch, int64_t image_size, int steps) {
  if (batch < 1 || image_size < 1 || steps < 1) {
    throw SpecError("bench: batch, image size and steps must be positive");
  }
  torch::manual_seed(0);
  auto net = make_network(config);
  net->set_bits(w_bits, a_bits);
  net->train();
  torch::Tensor images = torch::randn({batch, config.in_channels, image_size, image_size});
  torch::Tensor labels = torch::randint(0, config.num_classes, {batch}, torch::kLong);
  auto step = [&] {
    for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();
    torch::cross_entropy_loss(net->forward(images), labels).backward();
  };
  for (int i = 0; i < 2; ++i) step();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {{"arch", config.arch},
          {"block", config.block},
          {"weight_quantizer", config.weight_quantizer},
          {"activation_quantizer", config.activation_quantizer},
          {"w_bits", w_bits},
          {"a_bits", a_bits},
          {"batch", batch},
          {"image_size", image_size},
          {"threads", torch::get_num_threads()},
          {"steps", steps},
          {"ms_per_step", 1000.0 * seconds / steps},
          {"images_per_second", static_cast<double>(batch) * steps / seconds}};
}

}  // namespace ctmq
