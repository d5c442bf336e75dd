#pragma once
// Which instruction set the engine's kernels use, chosen at run time. Torch-free.

namespace ctmq::engine {

/// The instruction sets a kernel can use.
enum class KernelIsa { kPortable, kAvx2 };

/// Whether this CPU runs the AVX2 kernels (AVX2, POPCNT and FMA, checked at run time).
bool cpu_has_avx2();

/// The fastest kernel this CPU runs; CTMQ_ENGINE_ISA=portable forces the portable one.
KernelIsa best_kernel_isa();

/// "avx2" or "portable".
const char* kernel_isa_name(KernelIsa isa);

}  // namespace ctmq::engine
