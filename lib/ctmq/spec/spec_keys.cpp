#include "ctmq/spec/spec_keys.h"

#include <cstdint>
#include <limits>

namespace ctmq {
namespace {

using nlohmann::json;

template <typename T>
using Accessor = T& (*)(ExperimentSpec&);

template <typename T>
SpecKey make_key(std::string path, KeyType type, Accessor<T> field, json default_value,
                 std::string doc) {
  SpecKey key;
  key.path = std::move(path);
  key.type = type;
  key.default_value = std::move(default_value);
  key.doc = std::move(doc);
  key.get = [field](const ExperimentSpec& spec) {
    const T& value = field(const_cast<ExperimentSpec&>(spec));
    if constexpr (std::is_same_v<T, std::optional<std::string>> ||
                  std::is_same_v<T, std::optional<int64_t>> ||
                  std::is_same_v<T, std::optional<double>>) {
      return value ? json(*value) : json(nullptr);
    } else {
      return json(value);
    }
  };
  key.set = [field](ExperimentSpec& spec, const json& value) {
    T& target = field(spec);
    if constexpr (std::is_same_v<T, std::optional<std::string>>) {
      target =
          value.is_null() ? std::nullopt : std::optional<std::string>(value.get<std::string>());
    } else if constexpr (std::is_same_v<T, std::optional<int64_t>>) {
      target = value.is_null() ? std::nullopt : std::optional<int64_t>(value.get<int64_t>());
    } else if constexpr (std::is_same_v<T, std::optional<double>>) {
      target = value.is_null() ? std::nullopt : std::optional<double>(value.get<double>());
    } else {
      target = value.get<T>();
    }
  };
  return key;
}

SpecKey text(std::string path, Accessor<std::string> field, std::string default_value,
             std::string doc) {
  return make_key(std::move(path), KeyType::kString, field, std::move(default_value),
                  std::move(doc));
}

/// A string key whose value is one of an enum's names (choices.h); the spec holds the enum.
template <typename E, typename Field>
SpecKey choice(std::string path, Field field_lambda, E default_value, std::string doc) {
  const Accessor<E> field = field_lambda;
  SpecKey key;
  key.path = std::move(path);
  key.type = KeyType::kString;
  key.default_value = choice_name(default_value);
  key.doc = std::move(doc);
  key.choices = choice_names<E>();
  key.get = [field](const ExperimentSpec& spec) {
    return json(choice_name(field(const_cast<ExperimentSpec&>(spec))));
  };
  // The parser checks the name against key.choices before it calls set.
  key.set = [field](ExperimentSpec& spec, const json& value) {
    field(spec) = *parse_choice<E>(value.get<std::string>());
  };
  return key;
}

SpecKey integer(std::string path, Accessor<int64_t> field, int64_t default_value, std::string doc,
                double min, std::optional<double> max = std::nullopt) {
  SpecKey key = make_key(std::move(path), KeyType::kInt, field, default_value, std::move(doc));
  key.min = min;
  key.max = max;
  return key;
}

SpecKey number(std::string path, Accessor<double> field, double default_value, std::string doc,
               double min, bool min_exclusive, std::optional<double> max = std::nullopt) {
  SpecKey key = make_key(std::move(path), KeyType::kNumber, field, default_value, std::move(doc));
  key.min = min;
  key.min_exclusive = min_exclusive;
  key.max = max;
  return key;
}

SpecKey flag(std::string path, Accessor<bool> field, bool default_value, std::string doc) {
  return make_key(std::move(path), KeyType::kBool, field, default_value, std::move(doc));
}

SpecKey optional_rate(std::string path, Accessor<std::optional<double>> field, std::string doc) {
  SpecKey key = make_key(std::move(path), KeyType::kOptionalNumber, field, nullptr, std::move(doc));
  key.min = 0.0;
  key.min_exclusive = true;
  return key;
}

SpecKey runtime_only(SpecKey key) {
  key.affects_result = false;
  return key;
}

/// A key added after run directories existed (see SpecKey::hashed_at_default).
SpecKey added_later(SpecKey key) {
  key.hashed_at_default = false;
  return key;
}

SpecKey required(SpecKey key) {
  key.required = true;
  return key;
}

std::vector<SpecKey> build_keys() {
  std::vector<SpecKey> keys;
  keys.push_back(required(text(
      "/name", [](ExperimentSpec& s) -> std::string& { return s.name; }, "fmnist-resnet20-w1a1",
      "Experiment name, used in logs and reports.")));
  keys.push_back(integer(
      "/seed", [](ExperimentSpec& s) -> int64_t& { return s.seed; }, 1,
      "Seed for weight initialisation, shuffling and augmentation.", 0));
  keys.push_back(runtime_only(text(
      "/output_dir", [](ExperimentSpec& s) -> std::string& { return s.output_dir; },
      "runs/fmnist-resnet20-w1a1",
      "Run directory: checkpoints, manifest, metrics, logs and reports go here.")));

  keys.push_back(required(choice(
      "/data/format", [](ExperimentSpec& s) -> DataFormat& { return s.data.format; },
      DataFormat::kFashionMnist, "Dataset layout.")));
  keys.push_back(required(runtime_only(text(
      "/data/root", [](ExperimentSpec& s) -> std::string& { return s.data.root; },
      "/usr/share/datasets/fashion-mnist", "Dataset directory; must exist."))));
  keys.push_back(integer(
      "/data/batch_size", [](ExperimentSpec& s) -> int64_t& { return s.data.batch_size; }, 128,
      "Images per batch and per process (the global batch is this times the world size).", 1));
  keys.push_back(runtime_only(integer(
      "/data/workers", [](ExperimentSpec& s) -> int64_t& { return s.data.workers; }, 2,
      "Decoding threads of the loader (0 = decode on the training thread).", 0, 256)));
  keys.push_back(integer(
      "/data/image_size", [](ExperimentSpec& s) -> int64_t& { return s.data.image_size; }, 28,
      "Side of the square network input in pixels.", 8, 1024));
  keys.push_back(integer(
      "/data/resize", [](ExperimentSpec& s) -> int64_t& { return s.data.resize; }, 256,
      "ImageNet validation: the shorter side is resized to this before the center crop.", 8, 2048));
  keys.push_back(integer(
      "/data/train_limit", [](ExperimentSpec& s) -> int64_t& { return s.data.train_limit; }, 0,
      "Use only this many training images, a deterministic subset (0 = all).", 0));
  keys.push_back(integer(
      "/data/val_limit", [](ExperimentSpec& s) -> int64_t& { return s.data.val_limit; }, 0,
      "Use only this many images of the dataset's own validation/test split, a deterministic "
      "subset (0 = all).",
      0));
  keys.push_back(added_later(integer(
      "/data/val_split", [](ExperimentSpec& s) -> int64_t& { return s.data.val_split; }, 0,
      "Hold out this many training images (class-balanced, the same whatever the seed) as the "
      "validation split that every epoch's metrics and best-epoch choice use; the dataset's own "
      "validation/test split then becomes the test split, scored once at the end of every "
      "stage (`test_top1`). 0 = the dataset's split serves as validation, with no test score.",
      0)));
  keys.push_back(choice(
      "/data/on_bad_image",
      [](ExperimentSpec& s) -> BadImagePolicy& { return s.data.on_bad_image; },
      BadImagePolicy::kSkip,
      "What an unreadable image does: skip it with a warning, or fail with exit code 3."));
  keys.push_back(runtime_only(text(
      "/data/val_labels", [](ExperimentSpec& s) -> std::string& { return s.data.val_labels; }, "",
      "ImageNet: label file for a flat val/ folder (lines `file,wnid` or `file class_index`); "
      "empty = val/ has class folders.")));
  keys.push_back(flag(
      "/data/augment", [](ExperimentSpec& s) -> bool& { return s.data.augment; }, true,
      "Training augmentation: random crop with padding and horizontal flip (small datasets); "
      "RandomResizedCrop and flip (ImageNet)."));
  keys.push_back(integer(
      "/data/crop_padding", [](ExperimentSpec& s) -> int64_t& { return s.data.crop_padding; }, 4,
      "Small datasets: zero padding on each side before the random crop.", 0, 64));
  keys.push_back(runtime_only(integer(
      "/data/prefetch", [](ExperimentSpec& s) -> int64_t& { return s.data.prefetch; }, 4,
      "Batches decoded ahead of the training step (bounds the loader's memory).", 1, 64)));

  keys.push_back(required(choice(
      "/model/arch", [](ExperimentSpec& s) -> Arch& { return s.model.arch; }, Arch::kResNet20,
      "Network.")));
  keys.push_back(integer(
      "/model/num_classes", [](ExperimentSpec& s) -> int64_t& { return s.model.num_classes; }, 10,
      "Output classes; must match the dataset.", 2, 100000));
  SpecKey first_last_bits = integer(
      "/model/first_last_bits",
      [](ExperimentSpec& s) -> int64_t& { return s.model.first_last_bits; }, 32,
      "Bit depth of the stem convolution and the classifier (32 = full precision).", 1, 32);
  // 17..31 bits have no quantizer: 32 is the full-precision float path.
  first_last_bits.allowed = "1 to 16, or 32";
  keys.push_back(first_last_bits);
  keys.push_back(choice(
      "/model/block", [](ExperimentSpec& s) -> BlockKind& { return s.model.block; },
      BlockKind::kBasic,
      "Residual block: `basic`, or `bireal` (a real-valued shortcut around every convolution, "
      "the usual choice for 1-bit ResNets)."));
  keys.push_back(flag(
      "/model/sync_bn", [](ExperimentSpec& s) -> bool& { return s.model.sync_bn; }, false,
      "Distributed runs: BatchNorm statistics computed over the global batch."));

  keys.push_back(choice(
      "/quant/weights", [](ExperimentSpec& s) -> WeightMethod& { return s.quant.weights; },
      WeightMethod::kDoReFa,
      "Weight quantizer for 2..16 bits (1 bit is always sign times mean |w| per channel)."));
  keys.push_back(choice(
      "/quant/activations",
      [](ExperimentSpec& s) -> ActivationMethod& { return s.quant.activations; },
      ActivationMethod::kPact,
      "Activation quantizer for 2..16 bits (1 bit is always sign with the ApproxSign gradient)."));
  keys.push_back(choice(
      "/quant/weight_granularity",
      [](ExperimentSpec& s) -> Granularity& { return s.quant.weight_granularity; },
      Granularity::kChannel, "LSQ weight step size per layer or per output channel."));

  keys.push_back(choice(
      "/optimizer/name", [](ExperimentSpec& s) -> OptimizerKind& { return s.optimizer.name; },
      OptimizerKind::kSgd, "Optimizer, created fresh for every stage."));
  keys.push_back(number(
      "/optimizer/lr", [](ExperimentSpec& s) -> double& { return s.optimizer.lr; }, 0.1,
      "Peak learning rate (stages may override it).", 0.0, true));
  keys.push_back(number(
      "/optimizer/momentum", [](ExperimentSpec& s) -> double& { return s.optimizer.momentum; }, 0.9,
      "SGD momentum.", 0.0, false, 1.0));
  keys.push_back(flag(
      "/optimizer/nesterov", [](ExperimentSpec& s) -> bool& { return s.optimizer.nesterov; }, false,
      "SGD Nesterov momentum."));
  keys.push_back(number(
      "/optimizer/weight_decay",
      [](ExperimentSpec& s) -> double& { return s.optimizer.weight_decay; }, 5e-4,
      "Weight decay; not applied to BatchNorm parameters, biases or quantizer scales.", 0.0,
      false));
  keys.push_back(choice(
      "/optimizer/schedule",
      [](ExperimentSpec& s) -> ScheduleKind& { return s.optimizer.schedule; },
      ScheduleKind::kCosine, "Learning-rate schedule over each stage's epochs."));
  SpecKey milestones = make_key(
      "/optimizer/milestones", KeyType::kIntList,
      Accessor<std::vector<int64_t>>(
          [](ExperimentSpec& s) -> std::vector<int64_t>& { return s.optimizer.milestones; }),
      json::array(),
      "Step schedule: epochs (within a stage) at which the rate is multiplied by `gamma`.");
  milestones.min = 1;
  keys.push_back(milestones);
  keys.push_back(number(
      "/optimizer/gamma", [](ExperimentSpec& s) -> double& { return s.optimizer.gamma; }, 0.1,
      "Step schedule: factor applied at each milestone.", 0.0, true, 1.0));
  keys.push_back(integer(
      "/optimizer/warmup_epochs",
      [](ExperimentSpec& s) -> int64_t& { return s.optimizer.warmup_epochs; }, 0,
      "Linear warm-up from 0 to the stage's rate over this many epochs.", 0));
  keys.push_back(number(
      "/optimizer/label_smoothing",
      [](ExperimentSpec& s) -> double& { return s.optimizer.label_smoothing; }, 0.0,
      "Label smoothing of the cross-entropy loss.", 0.0, false, 0.99));

  keys.push_back(integer(
      "/pretrain/epochs", [](ExperimentSpec& s) -> int64_t& { return s.pretrain.epochs; }, 10,
      "Epochs of full-precision pretraining.", 0));
  SpecKey checkpoint = make_key(
      "/pretrain/checkpoint", KeyType::kOptionalString,
      Accessor<std::optional<std::string>>(
          [](ExperimentSpec& s) -> std::optional<std::string>& { return s.pretrain.checkpoint; }),
      nullptr,
      "An existing full-precision checkpoint; when set, pretraining is skipped and the "
      "quantization steps start from it.");
  keys.push_back(checkpoint);
  keys.push_back(optional_rate(
      "/pretrain/lr", [](ExperimentSpec& s) -> std::optional<double>& { return s.pretrain.lr; },
      "Learning rate of pretraining (null = optimizer.lr)."));

  SpecKey bits = make_key(
      "/steps/bits", KeyType::kIntList,
      Accessor<std::vector<int64_t>>(
          [](ExperimentSpec& s) -> std::vector<int64_t>& { return s.steps.bits; }),
      json::array({4, 3, 2, 1}),
      "The quantization-step ladder: strictly descending bit depths, each 1..16; the last is the "
      "target. Weights and activations share the depth.");
  bits.min = 1;
  bits.max = 16;
  bits.required = true;
  keys.push_back(bits);
  keys.push_back(integer(
      "/steps/epochs", [](ExperimentSpec& s) -> int64_t& { return s.steps.epochs; }, 2,
      "Epochs of every low-bit stage.", 0));
  keys.push_back(optional_rate(
      "/steps/lr", [](ExperimentSpec& s) -> std::optional<double>& { return s.steps.lr; },
      "Learning rate of the low-bit stages of cycle 0 (null = optimizer.lr)."));

  keys.push_back(integer(
      "/cycles/count", [](ExperimentSpec& s) -> int64_t& { return s.cycles.count; }, 2,
      "Cycles after the quantization-step phase (0 = steps only).", 0, 100));
  keys.push_back(integer(
      "/cycles/accurate_epochs",
      [](ExperimentSpec& s) -> int64_t& { return s.cycles.accurate_epochs; }, 2,
      "Epochs of each cycle's full-precision (accurate) stage.", 0));
  keys.push_back(choice(
      "/cycles/ladder", [](ExperimentSpec& s) -> CycleLadder& { return s.cycles.ladder; },
      CycleLadder::kFull,
      "`full`: each cycle walks the whole ladder again; `target`: the accurate model hands "
      "straight to the lowest bit depth."));
  keys.push_back(optional_rate(
      "/cycles/lr", [](ExperimentSpec& s) -> std::optional<double>& { return s.cycles.lr; },
      "Learning rate of the low-bit stages of cycles 1.. (null = steps.lr, else optimizer.lr)."));
  keys.push_back(optional_rate(
      "/cycles/accurate_lr",
      [](ExperimentSpec& s) -> std::optional<double>& { return s.cycles.accurate_lr; },
      "Learning rate of each cycle's accurate stage (null = pretrain.lr, else optimizer.lr)."));

  SpecKey accurate_warmup = make_key(
      "/cycles/accurate_warmup_epochs", KeyType::kOptionalInt,
      Accessor<std::optional<int64_t>>([](ExperimentSpec& s) -> std::optional<int64_t>& {
        return s.cycles.accurate_warmup_epochs;
      }),
      nullptr,
      "Linear warm-up epochs of each cycle's accurate stage (null = optimizer.warmup_epochs).");
  accurate_warmup.min = 0;
  keys.push_back(added_later(accurate_warmup));

  keys.push_back(added_later(text(
      "/distill/teacher", [](ExperimentSpec& s) -> std::string& { return s.distill.teacher; },
      "none",
      "Knowledge distillation into the low-bit stages from a full-precision teacher: `none`; "
      "`accurate`, the latest full-precision stage before each student (pretraining for the "
      "quantization-step phase, `ck-fp` in cycle k; a phase started `--from` a full-precision "
      "checkpoint uses that checkpoint until its own accurate stage); `pretrain`; a "
      "full-precision stage of this plan such as `c1-fp`; or a checkpoint file (any other "
      "value). The teacher runs in eval mode without gradients.")));
  keys.push_back(added_later(number(
      "/distill/temperature", [](ExperimentSpec& s) -> double& { return s.distill.temperature; },
      4.0,
      "Softmax temperature T of the teacher's and the student's logits in the KL term. At "
      "least 0.001: the loss divides float32 logits by T and scales the KL term by T^2, which a "
      "far smaller T turns into infinities (a NaN loss at the first step).",
      0.001, false, 100.0)));
  keys.push_back(added_later(number(
      "/distill/weight", [](ExperimentSpec& s) -> double& { return s.distill.weight; }, 0.5,
      "Mix of the two losses: weight * T^2 * KL(teacher || student) + (1 - weight) * "
      "cross-entropy with the labels.",
      0.0, false, 1.0)));
  keys.push_back(added_later(choice(
      "/distill/stages", [](ExperimentSpec& s) -> DistillStages& { return s.distill.stages; },
      DistillStages::kLowBit,
      "Which stages learn from the teacher: every low-bit stage, or only the target bit "
      "depth's (the last of steps.bits).")));

  keys.push_back(runtime_only(choice(
      "/train/numerics", [](ExperimentSpec& s) -> NumericsMode& { return s.train.numerics; },
      NumericsMode::kReproducible,
      "reproducible: bit-identical metrics and checkpoints on every x86-64 CPU with AVX2 "
      "(LibTorch's CPU kernels capped at AVX2; on CUDA, deterministic algorithms and no TF32); "
      "native: the machine's fastest kernels. The global --numerics flag overrides it; a run "
      "resumes only under the mode it started with.")));
  keys.push_back(runtime_only(choice(
      "/train/amp", [](ExperimentSpec& s) -> AmpMode& { return s.train.amp; }, AmpMode::kOff,
      "Mixed precision on CUDA: autocast to bf16, or fp16 with dynamic loss scaling. "
      "On a CPU run it is switched off with a warning.")));
  keys.push_back(runtime_only(flag(
      "/train/channels_last", [](ExperimentSpec& s) -> bool& { return s.train.channels_last; },
      false,
      "Channels-last (NHWC) memory for the network and its batches, on any device; "
      "checkpoints stay NCHW.")));
  keys.push_back(runtime_only(integer(
      "/train/log_interval", [](ExperimentSpec& s) -> int64_t& { return s.train.log_interval; }, 50,
      "Steps between plain log lines when stderr is not a terminal.", 1)));
  keys.push_back(runtime_only(integer(
      "/train/eval_batch_size",
      [](ExperimentSpec& s) -> int64_t& { return s.train.eval_batch_size; }, 0,
      "Validation batch size (0 = data.batch_size).", 0)));
  return keys;
}

}  // namespace

const std::vector<SpecKey>& spec_keys() {
  static const std::vector<SpecKey> keys = build_keys();
  return keys;
}

const SpecKey* find_spec_key(const std::string& path) {
  for (const auto& key : spec_keys()) {
    if (key.path == path) return &key;
  }
  return nullptr;
}

ExperimentSpec spec_defaults() {
  ExperimentSpec spec;
  for (const auto& key : spec_keys()) key.set(spec, key.default_value);
  return spec;
}

std::string key_type_name(KeyType type) {
  switch (type) {
    case KeyType::kString:
      return "string";
    case KeyType::kInt:
      return "integer";
    case KeyType::kNumber:
      return "number";
    case KeyType::kBool:
      return "boolean";
    case KeyType::kIntList:
      return "array of integers";
    case KeyType::kOptionalString:
      return "string or null";
    case KeyType::kOptionalInt:
      return "integer or null";
    case KeyType::kOptionalNumber:
      return "number or null";
  }
  return "value";
}

}  // namespace ctmq
