#include "ctmq/platform/numerics.h"

#include <torch/torch.h>

#include <cstdlib>
#include <optional>
#include <vector>

#include "ctmq/core/errors.h"
#include "ctmq/platform/cpu_info.h"

namespace ctmq {
namespace {

/// A variable the reproducible mode sets, and the value it sets.
struct PinnedVariable {
  const char* name;
  const char* reproducible_value;
};

// oneDNN 2.x reads both prefixes (ONEDNN_ first); ATen reads ATEN_CPU_CAPABILITY; the XNOR
// engine reads CTMQ_ENGINE_ISA. cuBLAS needs a fixed workspace configuration to be
// deterministic, read when its first handle is made.
constexpr PinnedVariable kPinned[] = {{"ONEDNN_MAX_CPU_ISA", "AVX2"},
                                      {"DNNL_MAX_CPU_ISA", "AVX2"},
                                      {"ATEN_CPU_CAPABILITY", "avx2"},
                                      {"CTMQ_ENGINE_ISA", "avx2"},
                                      {"CUBLAS_WORKSPACE_CONFIG", ":4096:8"}};

struct UserValue {
  std::string name;
  std::optional<std::string> value;
};

/// The user's own values of the pinned variables, read before ctmq first changes them.
const std::vector<UserValue>& user_values() {
  static const std::vector<UserValue> values = [] {
    std::vector<UserValue> read;
    for (const PinnedVariable& variable : kPinned) {
      const char* value = std::getenv(variable.name);
      read.push_back({variable.name, value ? std::optional<std::string>(value) : std::nullopt});
    }
    return read;
  }();
  return values;
}

// The mode is process-wide by nature: LibTorch's kernel choice is.
NumericsMode& current_mode() {
  static NumericsMode mode = NumericsMode::kReproducible;
  return mode;
}

void restore(const UserValue& user) {
  if (user.value) {
    setenv(user.name.c_str(), user.value->c_str(), 1);
  } else {
    unsetenv(user.name.c_str());
  }
}

}  // namespace

void pin_numerics(NumericsMode mode) {
  const std::vector<UserValue>& users = user_values();
  if (mode == NumericsMode::kReproducible) {
    const CpuInfo& cpu = cpu_info();
    if (!cpu.has("avx2") || !cpu.has("fma")) {
      throw SpecError(
          "--numerics reproducible (train.numerics) computes as an AVX2 machine "
          "does, and this CPU (" +
          cpu.model + ") has no AVX2 and FMA: pass --numerics native");
    }
    for (size_t i = 0; i < users.size(); ++i) {
      // A user's portable engine is already below AVX2 and gives the same bits.
      const bool keep = users[i].name == "CTMQ_ENGINE_ISA" && users[i].value == "portable";
      const bool keep_cublas = users[i].name == "CUBLAS_WORKSPACE_CONFIG" && users[i].value;
      if (keep || keep_cublas) {
        restore(users[i]);
      } else {
        setenv(kPinned[i].name, kPinned[i].reproducible_value, 1);
      }
    }
  } else {
    for (const UserValue& user : users) restore(user);
  }
  current_mode() = mode;
}

NumericsMode pinned_numerics() {
  return current_mode();
}

void apply_cuda_numerics(NumericsMode mode) {
  if (mode != NumericsMode::kReproducible) return;
  at::Context& context = at::globalContext();
  // warn_only: an op without a deterministic CUDA kernel warns instead of stopping a run.
  context.setDeterministicAlgorithms(true, /*warn_only=*/true);
  context.setDeterministicCuDNN(true);
  context.setBenchmarkCuDNN(false);
  context.setAllowTF32CuBLAS(false);
  context.setAllowTF32CuDNN(false);
}

std::string numerics_mismatch_message(const std::string& run_dir, const std::string& recorded,
                                      NumericsMode requested) {
  return "run directory " + run_dir + " was trained with --numerics " + recorded +
         " (manifest.json), and this command asks for --numerics " + choice_name(requested) +
         ": resuming under another mode would mix two kinds of arithmetic in one run. Pass "
         "--numerics " +
         recorded + " (or set train.numerics) to resume it, or --force to retrain it";
}

}  // namespace ctmq
