#include "ctmq/train/device.h"

#include "ctmq/core/errors.h"
#include "ctmq/platform/numerics.h"

namespace ctmq {

torch::Device resolve_device(DeviceKind requested, int64_t local_rank) {
  const bool cuda = torch::cuda::is_available();
  if (requested == DeviceKind::kCuda && !cuda) {
    throw SpecError("--device cuda: this LibTorch build or machine has no CUDA device");
  }
  if (requested == DeviceKind::kCpu || !cuda) return torch::Device(torch::kCPU);
  apply_cuda_numerics(pinned_numerics());
  const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % count));
}

}  // namespace ctmq
