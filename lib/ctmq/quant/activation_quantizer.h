#pragma once
// The input quantizer of one conv or linear layer: identity at 32 bits, sign with Bi-Real
// Net's ApproxSign gradient at 1 bit, PACT or LSQ in between, on a signed or unsigned grid.

#include <string>

#include <torch/torch.h>

namespace ctmq {

/// How a layer's input activations are quantized for b >= 2 (b = 1 is always sign).
struct ActivationQuantizerOptions {
  std::string family = "pact";  ///< pact | lsq
  /// Unsigned for non-negative inputs (after a ReLU): grid on [0, range]. Signed for
  /// real-valued inputs: PACT clips to [-alpha, alpha]; LSQ uses Qn = 2^(b-1), Qp = 2^(b-1)-1.
  bool is_signed = false;
};

/// Quantizes activations at the current bit depth; see ActivationQuantizerOptions.
///
/// Learned parameters across depth changes (the CTMQ rule): PACT's `alpha` or LSQ's `step`
/// travels with the state together with the buffer `calibrated_bits` (the depth the
/// parameter is tuned for; 0 = never). On the first forward at a depth b >= 2 after set_bits():
///  - calibrated_bits == 0, i.e. a quantized depth is entered for the first time, the
///    parameter is initialised from that batch: LSQ step = 2 mean|x| / sqrt(Qp_b) (LSQ's rule),
///    PACT alpha = 3 sqrt(mean x^2) (three RMS, about the 99.7% point of a unit Gaussian);
///  - calibrated_bits == c != b: LSQ step *= Qp_c / Qp_b (the clipping range step * Qp is kept);
///    PACT alpha is kept as it is, since alpha is the clipping range itself.
/// At 1 and 32 bits the parameter is kept untouched (and not trained) for the next quantized
/// depth. Call set_bits() after loading state so the check runs again.
class ActivationQuantizerImpl : public torch::nn::Module {
 public:
  explicit ActivationQuantizerImpl(ActivationQuantizerOptions options);

  torch::Tensor forward(const torch::Tensor& x);

  /// Sets the depth (1..16 or 32) used from the next forward on.
  void set_bits(int bits);
  int bits() const { return bits_; }
  const ActivationQuantizerOptions& options() const { return options_; }

  /// Smallest and largest code of the current grid (b >= 2).
  int64_t qmin() const;
  int64_t qmax() const;

 private:
  void calibrate(const torch::Tensor& x);

  ActivationQuantizerOptions options_;
  int bits_ = 32;
  bool calibrated_ = false;
  torch::Tensor alpha_;  // pact
  torch::Tensor step_;   // lsq
  torch::Tensor calibrated_bits_;
};
TORCH_MODULE(ActivationQuantizer);

}  // namespace ctmq
