#include "ctmq/spec/choices.h"

namespace ctmq {

#define CTMQ_CHOICES(Enum, ...)                                                \
  template <>                                                                  \
  const std::vector<std::pair<Enum, const char*>>& choice_table<Enum>() {      \
    static const std::vector<std::pair<Enum, const char*>> table{__VA_ARGS__}; \
    return table;                                                              \
  }

CTMQ_CHOICES(DataFormat, {DataFormat::kImageNet, "imagenet"},
             {DataFormat::kFashionMnist, "fashion-mnist"}, {DataFormat::kCifar10, "cifar10"},
             {DataFormat::kCifar100, "cifar100"})
CTMQ_CHOICES(BadImagePolicy, {BadImagePolicy::kSkip, "skip"}, {BadImagePolicy::kFail, "fail"})
CTMQ_CHOICES(Arch, {Arch::kResNet18, "resnet18"}, {Arch::kResNet34, "resnet34"},
             {Arch::kResNet20, "resnet20"}, {Arch::kResNet32, "resnet32"})
CTMQ_CHOICES(BlockKind, {BlockKind::kBasic, "basic"}, {BlockKind::kBiReal, "bireal"})
CTMQ_CHOICES(WeightMethod, {WeightMethod::kDoReFa, "dorefa"}, {WeightMethod::kLsq, "lsq"})
CTMQ_CHOICES(ActivationMethod, {ActivationMethod::kPact, "pact"}, {ActivationMethod::kLsq, "lsq"})
CTMQ_CHOICES(Granularity, {Granularity::kLayer, "layer"}, {Granularity::kChannel, "channel"})
CTMQ_CHOICES(OptimizerKind, {OptimizerKind::kSgd, "sgd"}, {OptimizerKind::kAdam, "adam"},
             {OptimizerKind::kAdamW, "adamw"})
CTMQ_CHOICES(ScheduleKind, {ScheduleKind::kCosine, "cosine"}, {ScheduleKind::kStep, "step"},
             {ScheduleKind::kConstant, "constant"})
CTMQ_CHOICES(CycleLadder, {CycleLadder::kFull, "full"}, {CycleLadder::kTarget, "target"})
CTMQ_CHOICES(AmpMode, {AmpMode::kOff, "off"}, {AmpMode::kBf16, "bf16"}, {AmpMode::kFp16, "fp16"})
CTMQ_CHOICES(DistillStages, {DistillStages::kLowBit, "low-bit"}, {DistillStages::kTarget, "target"})
CTMQ_CHOICES(Split, {Split::kTrain, "train"}, {Split::kVal, "val"}, {Split::kTest, "test"})
CTMQ_CHOICES(DistBackend, {DistBackend::kAuto, "auto"}, {DistBackend::kGloo, "gloo"},
             {DistBackend::kNccl, "nccl"}, {DistBackend::kNone, "none"})
CTMQ_CHOICES(DeviceKind, {DeviceKind::kAuto, "auto"}, {DeviceKind::kCpu, "cpu"},
             {DeviceKind::kCuda, "cuda"})
CTMQ_CHOICES(NumericsMode, {NumericsMode::kReproducible, "reproducible"},
             {NumericsMode::kNative, "native"})

#undef CTMQ_CHOICES

}  // namespace ctmq
