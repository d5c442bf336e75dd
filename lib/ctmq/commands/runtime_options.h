#pragma once
// The global flags every subcommand shares. Torch-free on purpose: apps/ includes only the
// commands' headers, so the CLI's translation units compile in seconds.

#include <cstdint>
#include <optional>
#include <string>

#include "ctmq/spec/choices.h"

namespace ctmq {

/// Global flags shared by every subcommand.
struct RuntimeOptions {
  DeviceKind device = DeviceKind::kAuto;
  int64_t threads = 0;  ///< LibTorch intra-op threads; 0 = all cores
  /// --numerics; unset: a training spec's train.numerics, else reproducible.
  std::optional<NumericsMode> numerics;
};

/// Applies --threads to LibTorch, pins --numerics (reproducible when not given; a training
/// command pins its spec's mode later, before it computes); checks --device (cuda without CUDA
/// is a SpecError).
void apply_runtime_options(const RuntimeOptions& options);

/// The mode a command with `spec_mode` in its spec computes in: --numerics where given.
inline NumericsMode resolve_numerics(const RuntimeOptions& options, NumericsMode spec_mode) {
  return options.numerics.value_or(spec_mode);
}

}  // namespace ctmq
