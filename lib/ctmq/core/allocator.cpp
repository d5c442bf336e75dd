#include "ctmq/core/allocator.h"

#include <cstdlib>  // defines __GLIBC__ on glibc systems

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ctmq {

void tune_allocator_for_training() {
#if defined(__GLIBC__)
  // 32 MiB is glibc's largest allowed mmap threshold; blocks above it (ImageNet-sized
  // activations) are big enough that their page faults cost little next to their compute.
  constexpr int kMmapThreshold = 32 << 20;
  constexpr int kTrimThreshold = 512 << 20;
  mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
#endif
}

}  // namespace ctmq
