#pragma once
// The experiment spec as typed structs. Every key is declared once in spec_keys.cpp, with its
// default, which drives parsing, validation, defaults and docs/spec.md: spec_defaults() is the
// spec every key at its default; a plain ExperimentSpec{} is zeroed, not a default spec.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ctmq/spec/choices.h"

namespace ctmq {

/// Bit depth meaning "full precision" (no quantization).
constexpr int kFullPrecisionBits = 32;

/// Where the images come from and how batches are made.
struct DataSpec {
  DataFormat format{};
  std::string root{};
  int64_t batch_size{};   ///< per process
  int64_t workers{};      ///< decoding threads
  int64_t image_size{};   ///< side of the (square) network input
  int64_t resize{};       ///< imagenet val: shorter side before the center crop
  int64_t train_limit{};  ///< 0 = all images
  int64_t val_limit{};    ///< 0 = all images (the test split's, when val_split is set)
  int64_t val_split{};    ///< > 0: this many training images become the validation split
  BadImagePolicy on_bad_image{};
  std::string val_labels{};  ///< imagenet: label file for a flat val/ folder
  bool augment{};            ///< train-time random crop (with padding) and flip
  int64_t crop_padding{};    ///< small datasets: zero padding before the random crop
  int64_t prefetch{};        ///< batches decoded ahead
};

/// The network and which layers are quantized.
struct ModelSpec {
  Arch arch{};
  int64_t num_classes{};
  int64_t first_last_bits{};
  BlockKind block{};
  bool sync_bn{};
};

/// Which quantizer family is used for weights and activations (b >= 2; b = 1 is always binary).
struct QuantSpec {
  WeightMethod weights{};
  ActivationMethod activations{};
  Granularity weight_granularity{};  ///< lsq weights
};

/// Optimizer and learning-rate schedule, fresh for every stage.
struct OptimizerSpec {
  OptimizerKind name{};
  double lr{};
  double momentum{};
  bool nesterov{};
  double weight_decay{};
  ScheduleKind schedule{};
  std::vector<int64_t> milestones{};  ///< step schedule, in epochs
  double gamma{};                     ///< step schedule factor
  int64_t warmup_epochs{};
  double label_smoothing{};
};

struct PretrainSpec {
  int64_t epochs{};
  std::optional<std::string> checkpoint{};  ///< a full-precision checkpoint skips pretraining
  std::optional<double> lr{};
};

struct StepsSpec {
  std::vector<int64_t> bits{};  ///< strictly descending ladder, each in 1..16
  int64_t epochs{};
  std::optional<double> lr{};
};

struct CyclesSpec {
  int64_t count{};
  int64_t accurate_epochs{};
  CycleLadder ladder{};
  std::optional<double> lr{};                       ///< low-bit stages of a cycle
  std::optional<double> accurate_lr{};              ///< the full-precision stage of a cycle
  std::optional<int64_t> accurate_warmup_epochs{};  ///< null = optimizer.warmup_epochs
};

/// Knowledge distillation from a full-precision teacher into the low-bit stages.
struct DistillSpec {
  /// "none", "accurate" (the latest full-precision stage before the student), "pretrain", a
  /// stage id ("c1-fp"), or a checkpoint file.
  std::string teacher{};
  double temperature{};
  double weight{};  ///< loss = weight * T^2 * KL(teacher || student) + (1 - weight) * CE
  DistillStages stages{};
};

/// How the experiment is computed: settings that change no more than float round-off.
struct TrainSpec {
  NumericsMode numerics{};
  AmpMode amp{};  ///< CUDA only
  bool channels_last{};
  int64_t log_interval{};     ///< steps between plain log lines when stderr is not a terminal
  int64_t eval_batch_size{};  ///< 0 = data.batch_size
};

/// A whole CTMQ experiment.
struct ExperimentSpec {
  std::string name{};
  int64_t seed{};
  std::string output_dir{};
  DataSpec data{};
  ModelSpec model{};
  QuantSpec quant{};
  OptimizerSpec optimizer{};
  PretrainSpec pretrain{};
  StepsSpec steps{};
  CyclesSpec cycles{};
  DistillSpec distill{};
  TrainSpec train{};
};

}  // namespace ctmq
