#include "ctmq/commands/runtime_options.h"

#include <torch/torch.h>

#include <thread>

#include "ctmq/core/allocator.h"
#include "ctmq/core/errors.h"
#include "ctmq/platform/numerics.h"

namespace ctmq {

void apply_runtime_options(const RuntimeOptions& options) {
  pin_numerics(options.numerics.value_or(NumericsMode::kReproducible));
  if (options.device == DeviceKind::kCuda && !torch::cuda::is_available()) {
    throw SpecError("--device cuda: this LibTorch build or machine has no CUDA device");
  }
  int64_t threads = options.threads > 0 ? options.threads
                                        : static_cast<int64_t>(std::thread::hardware_concurrency());
  torch::set_num_threads(static_cast<int>(std::max<int64_t>(1, threads)));
  tune_allocator_for_training();
}

}  // namespace ctmq
