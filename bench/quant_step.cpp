// Times one training step (forward + backward) of a network at several depths on a synthetic
// batch and prints one JSON object per depth. Usage: quant_step [arch] [batch] [image] [steps]
// [threads] [block]; the ctmq CLI's `bench` reaches the same code through bench_network_step.

#include <iostream>
#include <string>

#include <torch/torch.h>

#include "ctmq/models/bench_network.h"

int main(int argc, char** argv) {
  try {
    ctmq::NetworkConfig config;
    config.arch = argc > 1 ? argv[1] : "resnet20";
    const int64_t batch = argc > 2 ? std::stoll(argv[2]) : 128;
    const int64_t image = argc > 3 ? std::stoll(argv[3]) : 28;
    const int steps = argc > 4 ? std::stoi(argv[4]) : 10;
    const int threads = argc > 5 ? std::stoi(argv[5]) : 2;
    config.block = argc > 6 ? argv[6] : "basic";
    config.in_channels = 1;
    config.num_classes = 10;
    torch::set_num_threads(threads);
    for (const auto& [wq, aq] : {std::pair<std::string, std::string>{"dorefa", "pact"},
                                 std::pair<std::string, std::string>{"lsq", "lsq"}}) {
      config.weight_quantizer = wq;
      config.activation_quantizer = aq;
      for (auto [w, a] : {std::pair<int, int>{32, 32}, {4, 4}, {1, 1}}) {
        std::cout << ctmq::bench_network_step(config, w, a, batch, image, steps).dump() << "\n";
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "quant_step: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
