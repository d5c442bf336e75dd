#pragma once
// The activation quantization methods behind ActivationQuantizer, one type each: ApproxSign
// (1 bit), PACT and LSQ (2..16 bits). A method registers its learned state on the quantizer
// module that owns it, so checkpoint names are the module's ("alpha" or "step", then
// "calibrated_bits").

#include <torch/torch.h>

namespace ctmq {

/// The grid a quantizer maps onto: signed for real-valued inputs, unsigned after a ReLU.
struct ActivationGrid {
  int bits = 32;
  bool is_signed = false;
  int64_t qmin() const;
  int64_t qmax() const;
};

/// How one method turns float activations into their quantized value.
class ActivationMethodBase {
 public:
  virtual ~ActivationMethodBase() = default;
  /// Runs once on the first forward after a depth change, before quantize().
  virtual void calibrate(const torch::Tensor& /*x*/, const ActivationGrid& /*grid*/) {}
  virtual torch::Tensor quantize(const torch::Tensor& x, const ActivationGrid& grid) = 0;
};

/// sign(x) with Bi-Real Net's ApproxSign gradient.
class ApproxSignActivations : public ActivationMethodBase {
 public:
  torch::Tensor quantize(const torch::Tensor& x, const ActivationGrid& grid) override;
};

/// PACT's learned clipping level `alpha`.
///
/// On the first quantized depth (calibrated_bits == 0) alpha starts at 1 for signed inputs and
/// at three RMS of the batch (about the 99.7% point of a unit Gaussian) for unsigned ones; at
/// a later depth change alpha is kept as it is, since alpha is the clipping range itself.
class PactActivations : public ActivationMethodBase {
 public:
  explicit PactActivations(torch::nn::Module& owner);
  void calibrate(const torch::Tensor& x, const ActivationGrid& grid) override;
  torch::Tensor quantize(const torch::Tensor& x, const ActivationGrid& grid) override;

 private:
  torch::Tensor alpha_;
  torch::Tensor calibrated_bits_;
};

/// LSQ's learned step. On the first quantized depth step = 2 mean|x| / sqrt(Qp_b) (LSQ's
/// rule); at a change from depth c to b, step *= Qp_c / Qp_b (the clipping range step * Qp is
/// kept).
class LsqActivations : public ActivationMethodBase {
 public:
  explicit LsqActivations(torch::nn::Module& owner);
  void calibrate(const torch::Tensor& x, const ActivationGrid& grid) override;
  torch::Tensor quantize(const torch::Tensor& x, const ActivationGrid& grid) override;

 private:
  torch::Tensor step_;
  torch::Tensor calibrated_bits_;
};

}  // namespace ctmq
