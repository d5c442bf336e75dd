#pragma once
// `ctmq bench infer`: inference images/s of an exported model through each engine ("peer"),
// with per-layer times, as JSON. Torch-free (see runtime_options.h).

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ctmq {

struct InferBenchOptions {
  std::string exported;  ///< a file written by `ctmq export`, or
  /// a W1A1 network of this arch with random weights and BatchNorm statistics (exported to a
  /// temporary file and loaded back, so it runs exactly as an exported one)
  std::string random_arch;
  /// With random_arch, non-empty: the random network is also kept as PREFIX.ctmqx and
  /// PREFIX.onnx, so that other runtimes (bench/infer_compare.sh: onnxruntime) run the very
  /// same network.
  std::string save_random;
  std::string random_block = "bireal";  ///< basic or bireal
  int64_t random_classes = 1000;
  int64_t random_in_channels = 3;
  int64_t batch = 1;
  int64_t threads = 1;     ///< intra-op threads of every engine (LibTorch's and the XNOR engine's)
  int64_t image_size = 0;  ///< 0: 224 for ImageNet-stem networks, else 28 (1 channel) or 32
  std::vector<std::string> engines = {"float", "xnor"};  ///< peers, in order
  double seconds = 3.0;  ///< timed seconds per engine (at least 5 batches)
};

/// Images/s, per-batch times and per-layer times of each engine on random images, and each
/// engine's speed-up over the first.
nlohmann::json bench_infer(const InferBenchOptions& options);

/// The engines bench_infer knows, for --engine.
std::vector<std::string> infer_bench_engines();

}  // namespace ctmq
