#pragma once
// The global flags every subcommand shares. Torch-free on purpose: apps/ includes only the
// commands' headers, so the CLI's translation units compile in seconds.

#include <cstdint>
#include <string>

#include "ctmq/spec/choices.h"

namespace ctmq {

/// Global flags shared by every subcommand.
struct RuntimeOptions {
  DeviceKind device = DeviceKind::kAuto;
  int64_t threads = 0;  ///< LibTorch intra-op threads; 0 = all cores
};

/// Applies --threads to LibTorch; checks --device (cuda without CUDA is a SpecError).
void apply_runtime_options(const RuntimeOptions& options);

}  // namespace ctmq
