#pragma once
// The weight quantizer of one conv or linear layer: identity at 32 bits, binary at 1 bit, and
// DoReFa or LSQ in between (weight_methods.h). Its parameters exist at every depth, so a
// model's state keeps the same names through a whole CTMQ cycle.

#include <memory>

#include <torch/torch.h>

#include "ctmq/quant/encoded_weight.h"
#include "ctmq/quant/weight_methods.h"
#include "ctmq/spec/choices.h"

namespace ctmq {

/// How a layer's weights are quantized for b >= 2 (b = 1 is always binary).
struct WeightQuantizerOptions {
  WeightMethod method = WeightMethod::kDoReFa;
  Granularity granularity = Granularity::kChannel;  ///< lsq: one step per output channel or layer
  int64_t out_channels = 1;                         ///< size of dim 0 of the weight
};

/// Quantizes a weight tensor at the current bit depth; see WeightQuantizerOptions. The method's
/// learned state (LSQ's step) is calibrated on the first forward after set_bits(), and kept
/// untouched (and not trained) at 1 and 32 bits for the next quantized depth. Call set_bits()
/// after loading state so the calibration check runs again.
class WeightQuantizerImpl : public torch::nn::Module {
 public:
  explicit WeightQuantizerImpl(WeightQuantizerOptions options);

  /// The quantized (fake-quantized, float) weight; differentiable w.r.t. w and the step.
  torch::Tensor forward(const torch::Tensor& w);

  /// Sets the depth (1..16 or 32) used from the next forward on.
  void set_bits(int bits);
  int bits() const { return bits_; }
  const WeightQuantizerOptions& options() const { return options_; }

  /// Integer codes and scales of forward(w) at the current depth (b < 32).
  EncodedWeight encode(const torch::Tensor& w);

  /// LSQ's step as used by forward (kept positive); undefined for other methods.
  torch::Tensor effective_step() const;

 private:
  WeightQuantizerOptions options_;
  int bits_ = 32;
  bool calibrated_ = false;
  BinaryWeights binary_;
  std::unique_ptr<WeightMethodBase> multi_bit_;
  LsqWeights* lsq_ = nullptr;  ///< multi_bit_ when it is LSQ
};
TORCH_MODULE(WeightQuantizer);

}  // namespace ctmq
