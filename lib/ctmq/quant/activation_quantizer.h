#pragma once
// The input quantizer of one conv or linear layer: identity at 32 bits, sign with Bi-Real
// Net's ApproxSign gradient at 1 bit, PACT or LSQ in between (activation_methods.h), on a
// signed or unsigned grid.

#include <memory>

#include <torch/torch.h>

#include "ctmq/quant/activation_methods.h"
#include "ctmq/spec/choices.h"

namespace ctmq {

/// How a layer's input activations are quantized for b >= 2 (b = 1 is always sign).
struct ActivationQuantizerOptions {
  ActivationMethod method = ActivationMethod::kPact;
  /// Unsigned for non-negative inputs (after a ReLU): grid on [0, range]. Signed for
  /// real-valued inputs: PACT clips to [-alpha, alpha]; LSQ uses Qn = 2^(b-1), Qp = 2^(b-1)-1.
  bool is_signed = false;
};

/// Quantizes activations at the current bit depth; see ActivationQuantizerOptions.
///
/// The method's learned parameter (PACT's `alpha` or LSQ's `step`) travels with the state
/// together with the buffer `calibrated_bits` (the depth it is tuned for; 0 = never), and is
/// calibrated on the first forward at a depth b >= 2 after set_bits() (the CTMQ rule; see
/// activation_methods.h). At 1 and 32 bits it is kept untouched (and not trained) for the next
/// quantized depth. Call set_bits() after loading state so the check runs again.
class ActivationQuantizerImpl : public torch::nn::Module {
 public:
  explicit ActivationQuantizerImpl(ActivationQuantizerOptions options);

  torch::Tensor forward(const torch::Tensor& x);

  /// Sets the depth (1..16 or 32) used from the next forward on.
  void set_bits(int bits);
  int bits() const { return bits_; }
  const ActivationQuantizerOptions& options() const { return options_; }

  /// Smallest and largest code of the current grid (b >= 2).
  int64_t qmin() const { return grid().qmin(); }
  int64_t qmax() const { return grid().qmax(); }

 private:
  ActivationGrid grid() const { return {bits_, options_.is_signed}; }

  ActivationQuantizerOptions options_;
  int bits_ = 32;
  bool calibrated_ = false;
  ApproxSignActivations sign_;
  std::unique_ptr<ActivationMethodBase> multi_bit_;
};
TORCH_MODULE(ActivationQuantizer);

}  // namespace ctmq
