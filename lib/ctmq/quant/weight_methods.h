#pragma once
// The weight quantization methods behind WeightQuantizer, one type each: binary (1 bit),
// DoReFa and LSQ (2..16 bits). A method registers its learned state on the quantizer module
// that owns it, so checkpoint names are the module's ("step", "calibrated_bits").

#include <torch/torch.h>

#include "ctmq/quant/encoded_weight.h"
#include "ctmq/spec/choices.h"

namespace ctmq {

/// How one method turns a float weight into its quantized value at a given depth.
class WeightMethodBase {
 public:
  virtual ~WeightMethodBase() = default;
  /// Runs once on the first forward after a depth change, before quantize().
  virtual void calibrate(const torch::Tensor& /*w*/, int /*bits*/) {}
  /// The fake-quantized (float) weight; differentiable w.r.t. w and the method's parameters.
  virtual torch::Tensor quantize(const torch::Tensor& w, int bits) = 0;
  /// Integer codes and scales of `quantized` = quantize(w, bits).detach().
  virtual EncodedWeight encode(const torch::Tensor& w, const torch::Tensor& quantized,
                               int bits) = 0;
};

/// XNOR-Net's 1-bit weights: sign(w) times mean |w| per output channel.
class BinaryWeights : public WeightMethodBase {
 public:
  torch::Tensor quantize(const torch::Tensor& w, int bits) override;
  EncodedWeight encode(const torch::Tensor& w, const torch::Tensor& quantized, int bits) override;
};

/// DoReFa-Net's tanh-normalised uniform grid on [-1, 1]; nothing learned.
class DoReFaWeights : public WeightMethodBase {
 public:
  torch::Tensor quantize(const torch::Tensor& w, int bits) override;
  EncodedWeight encode(const torch::Tensor& w, const torch::Tensor& quantized, int bits) override;
};

/// LSQ's learned step, per layer or per output channel.
///
/// The step across depth changes (the CTMQ rule): the parameter `step` and the buffer
/// `calibrated_bits` (the depth `step` is tuned for; 0 = never) travel with the state. On the
/// first forward at a depth b >= 2 after a depth change:
///  - calibrated_bits == 0: step = 2 mean|w| / sqrt(Qp_b) per group (LSQ's initialisation);
///  - calibrated_bits == c != b: step *= Qp_c / Qp_b, which keeps the clipping range
///    step * Qp fixed, so the first batch at the new depth clips where the last one did.
class LsqWeights : public WeightMethodBase {
 public:
  LsqWeights(torch::nn::Module& owner, int64_t groups);
  void calibrate(const torch::Tensor& w, int bits) override;
  torch::Tensor quantize(const torch::Tensor& w, int bits) override;
  EncodedWeight encode(const torch::Tensor& w, const torch::Tensor& quantized, int bits) override;
  /// The step as used by quantize (kept positive).
  torch::Tensor effective_step() const;

 private:
  torch::Tensor step_;
  torch::Tensor calibrated_bits_;
};

}  // namespace ctmq
