#pragma once
// The spec's choices as enums. Their names exist only here and in the spec-key table: JSON and
// the command line carry names, everything below spec/ switches on the enums.

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ctmq {

enum class DataFormat { kImageNet, kFashionMnist, kCifar10, kCifar100 };
enum class BadImagePolicy { kSkip, kFail };
enum class Arch { kResNet18, kResNet34, kResNet20, kResNet32 };
enum class BlockKind { kBasic, kBiReal };
/// How weights are quantized at 2..16 bits (1 bit is always binary).
enum class WeightMethod { kDoReFa, kLsq };
/// How activations are quantized at 2..16 bits (1 bit is always ApproxSign).
enum class ActivationMethod { kPact, kLsq };
/// LSQ weights: one step per layer or per output channel.
enum class Granularity { kLayer, kChannel };
enum class OptimizerKind { kSgd, kAdam, kAdamW };
enum class ScheduleKind { kCosine, kStep, kConstant };
/// `full`: each cycle walks the whole ladder again; `target`: straight to the lowest depth.
enum class CycleLadder { kFull, kTarget };
enum class AmpMode { kOff, kBf16, kFp16 };
/// Which stages learn from the distillation teacher: every low-bit one, or the target depth's.
enum class DistillStages { kLowBit, kTarget };
/// Which split of a dataset a command reads.
enum class Split { kTrain, kVal, kTest };
/// --device: `auto` is CUDA where LibTorch has a device, else the CPU.
enum class DeviceKind { kAuto, kCpu, kCuda };
/// --dist-backend: `auto` is NCCL for a CUDA device (where compiled in), else Gloo; `none`
/// ignores the environment's torchrun/Slurm variables and trains as one process.
enum class DistBackend { kAuto, kGloo, kNccl, kNone };
/// `reproducible`: every CPU with AVX2 computes as an AVX2-only one does (bit-identical results
/// across CPU generations), and CUDA runs deterministic algorithms without TF32; `native`: the
/// fastest kernels of the machine.
enum class NumericsMode { kReproducible, kNative };

/// Every name of an enum, in documentation order.
template <typename E>
const std::vector<std::pair<E, const char*>>& choice_table();

/// The name of a choice ("fashion-mnist" for DataFormat::kFashionMnist).
template <typename E>
std::string choice_name(E value) {
  for (const auto& [choice, name] : choice_table<E>()) {
    if (choice == value) return name;
  }
  return "?";
}

/// The choice with this name, or nullopt.
template <typename E>
std::optional<E> parse_choice(const std::string& text) {
  for (const auto& [choice, name] : choice_table<E>()) {
    if (text == name) return choice;
  }
  return std::nullopt;
}

/// Every name of an enum, in documentation order.
template <typename E>
std::vector<std::string> choice_names() {
  std::vector<std::string> names;
  for (const auto& entry : choice_table<E>()) names.emplace_back(entry.second);
  return names;
}

}  // namespace ctmq
