#pragma once

#include <torch/torch.h>

#include "ctmq/spec/choices.h"

namespace ctmq {

/// --device -> a device; with several GPUs a process uses cuda:<local_rank % GPUs>. A CUDA
/// device computes in the pinned numerics mode (apply_cuda_numerics).
torch::Device resolve_device(DeviceKind requested, int64_t local_rank);

}  // namespace ctmq
