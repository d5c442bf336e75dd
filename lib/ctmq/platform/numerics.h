#pragma once
// The numerics mode: which kernels LibTorch may pick on this machine.
//
// oneDNN, ATen and the XNOR engine choose kernels by CPU, and an AVX-512 kernel sums in another
// order than an AVX2 one, so the same spec gives other last bits on another CPU generation. In
// the reproducible mode ctmq caps all three at AVX2 before LibTorch first computes: every x86-64
// CPU with AVX2 then computes as an AVX2-only one does. oneDNN and ATen read their caps
// (ONEDNN_MAX_CPU_ISA, ATEN_CPU_CAPABILITY) once, at their first kernel, which is why the mode
// is pinned at the start of a command and can change only until then.

#include <string>

#include "ctmq/spec/choices.h"

namespace ctmq {

/// Sets the environment LibTorch's kernel dispatch reads for `mode`; native restores the
/// user's own values. Call before the first tensor operation; may be called again until then.
/// Throws SpecError where the CPU cannot compute in the reproducible mode (no AVX2 and FMA).
void pin_numerics(NumericsMode mode);

/// The mode last pinned (reproducible when nothing was pinned yet).
NumericsMode pinned_numerics();

/// On a CUDA device: the reproducible mode turns on deterministic algorithms (ops without one
/// warn) and turns TF32 off in cuBLAS and cuDNN; native leaves LibTorch's defaults.
void apply_cuda_numerics(NumericsMode mode);

/// The error for a run directory started under `recorded` and resumed under another mode.
std::string numerics_mismatch_message(const std::string& run_dir, const std::string& recorded,
                                      NumericsMode requested);

}  // namespace ctmq
