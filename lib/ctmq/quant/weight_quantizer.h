#pragma once
// The weight quantizer of one conv or linear layer: identity at 32 bits, XNOR-style binary at
// 1 bit, and DoReFa or LSQ in between. Its parameters exist at every depth, so a model's state
// keeps the same names through a whole CTMQ cycle.

#include <string>

#include <torch/torch.h>

namespace ctmq {

/// How a layer's weights are quantized for b >= 2 (b = 1 is always binary).
struct WeightQuantizerOptions {
  std::string family = "dorefa";        ///< dorefa | lsq
  std::string granularity = "channel";  ///< lsq: layer | channel (one step per output channel)
  int64_t out_channels = 1;             ///< size of dim 0 of the weight
};

/// A quantized weight as integers: w = codes * scale[g] + offset[g], where group g is the
/// output channel (scale.numel() == size(0)) or the whole tensor (scale.numel() == 1).
/// Codes lie in the signed grid -2^(b-1)..2^(b-1)-1, or are -1/+1 for b = 1.
struct EncodedWeight {
  int bits = 32;
  torch::Tensor codes;   ///< int64, the weight's shape
  torch::Tensor scale;   ///< float, [groups]
  torch::Tensor offset;  ///< float, [groups]
};

/// Rebuilds the dequantized float weight of an EncodedWeight.
torch::Tensor decode_weight(const EncodedWeight& encoded);

/// Quantizes a weight tensor at the current bit depth; see WeightQuantizerOptions.
///
/// LSQ step across depth changes (the CTMQ rule): the parameter `step` and the buffer
/// `calibrated_bits` (the depth `step` is tuned for; 0 = never) travel with the state. On the
/// first forward at a depth b >= 2 after set_bits():
///  - calibrated_bits == 0: step = 2 mean|w| / sqrt(Qp_b) per group (LSQ's initialisation);
///  - calibrated_bits == c != b: step *= Qp_c / Qp_b, which keeps the clipping range
///    step * Qp fixed, so the first batch at the new depth clips where the last one did.
/// At 1 and 32 bits the step is kept untouched (and not trained) for the next quantized depth.
/// Call set_bits() after loading state so the check runs again.
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

  /// LSQ's step as used by forward (kept positive); undefined for dorefa.
  torch::Tensor effective_step() const;

 private:
  void calibrate(const torch::Tensor& w);

  WeightQuantizerOptions options_;
  int bits_ = 32;
  bool calibrated_ = false;
  torch::Tensor step_;
  torch::Tensor calibrated_bits_;
};
TORCH_MODULE(WeightQuantizer);

}  // namespace ctmq
