#pragma once
// The experiment spec as typed structs. Every key is declared once in spec_keys.cpp, which
// drives parsing, validation, defaults and docs/spec.md; the defaults below must match it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ctmq {

/// Bit depth meaning "full precision" (no quantization).
constexpr int kFullPrecisionBits = 32;

/// Where the images come from and how batches are made.
struct DataSpec {
  std::string format = "fashion-mnist";  ///< imagenet | fashion-mnist | cifar10 | cifar100
  std::string root = "/usr/share/datasets/fashion-mnist";
  int64_t batch_size = 128;           ///< per process
  int64_t workers = 2;                ///< decoding threads
  int64_t image_size = 28;            ///< side of the (square) network input
  int64_t resize = 256;               ///< imagenet val: shorter side before the center crop
  int64_t train_limit = 0;            ///< 0 = all images
  int64_t val_limit = 0;              ///< 0 = all images
  std::string on_bad_image = "skip";  ///< skip | fail
  std::string val_labels;             ///< imagenet: label file for a flat val/ folder
  bool augment = true;                ///< train-time random crop (with padding) and flip
  int64_t crop_padding = 4;           ///< small datasets: zero padding before the random crop
  int64_t prefetch = 4;               ///< batches decoded ahead
};

/// The network and which layers are quantized.
struct ModelSpec {
  std::string arch = "resnet20";  ///< resnet18 | resnet34 | resnet20 | resnet32
  int64_t num_classes = 10;
  int64_t first_last_bits = kFullPrecisionBits;
  std::string block = "basic";  ///< basic | bireal
  bool sync_bn = false;
};

/// Which quantizer family is used for weights and activations (b >= 2; b = 1 is always binary).
struct QuantSpec {
  std::string weights = "dorefa";              ///< dorefa | lsq
  std::string activations = "pact";            ///< pact | lsq
  std::string weight_granularity = "channel";  ///< lsq weights: layer | channel
};

/// Optimizer and learning-rate schedule, fresh for every stage.
struct OptimizerSpec {
  std::string name = "sgd";  ///< sgd | adam | adamw
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 5e-4;
  std::string schedule = "cosine";  ///< cosine | step | constant
  std::vector<int64_t> milestones;  ///< step schedule, in epochs
  double gamma = 0.1;               ///< step schedule factor
  int64_t warmup_epochs = 0;
  double label_smoothing = 0.0;
};

struct PretrainSpec {
  int64_t epochs = 10;
  std::optional<std::string>
      checkpoint;  ///< an existing full-precision checkpoint skips pretraining
  std::optional<double> lr;
};

struct StepsSpec {
  std::vector<int64_t> bits{4, 3, 2, 1};  ///< strictly descending ladder, each in 1..16
  int64_t epochs = 2;
  std::optional<double> lr;
};

struct CyclesSpec {
  int64_t count = 2;
  int64_t accurate_epochs = 2;
  std::string ladder = "full";        ///< full | target
  std::optional<double> lr;           ///< low-bit stages of a cycle
  std::optional<double> accurate_lr;  ///< the full-precision stage of a cycle
};

/// Engine settings that do not change the experiment's result on CPU.
struct TrainSpec {
  std::string amp = "off";  ///< off | bf16 | fp16 (CUDA only)
  bool channels_last = false;
  int64_t log_interval = 50;    ///< steps between plain log lines when stderr is not a terminal
  int64_t eval_batch_size = 0;  ///< 0 = data.batch_size
};

/// A whole CTMQ experiment.
struct ExperimentSpec {
  std::string name = "fmnist-resnet20-w1a1";
  int64_t seed = 1;
  std::string output_dir = "runs/fmnist-resnet20-w1a1";
  DataSpec data;
  ModelSpec model;
  QuantSpec quant;
  OptimizerSpec optimizer;
  PretrainSpec pretrain;
  StepsSpec steps;
  CyclesSpec cycles;
  TrainSpec train;
};

}  // namespace ctmq
