#include "ctmq/quant/activation_quantizer.h"

#include "ctmq/quant/bits.h"

namespace ctmq {

ActivationQuantizerImpl::ActivationQuantizerImpl(ActivationQuantizerOptions options)
    : options_(std::move(options)) {
  switch (options_.method) {
    case ActivationMethod::kPact:
      multi_bit_ = std::make_unique<PactActivations>(*this);
      break;
    case ActivationMethod::kLsq:
      multi_bit_ = std::make_unique<LsqActivations>(*this);
      break;
  }
}

void ActivationQuantizerImpl::set_bits(int bits) {
  check_bits(bits, "activation quantizer");
  bits_ = bits;
  calibrated_ = false;
}

torch::Tensor ActivationQuantizerImpl::forward(const torch::Tensor& input) {
  if (is_float_bits(bits_)) return input;
  // Under CUDA autocast the input may be fp16/bf16: quantize in float32, where every level of
  // up to 16 bits is exact and the fake-quant kernels are supported on every LibTorch version.
  const bool reduced =
      input.scalar_type() == torch::kHalf || input.scalar_type() == torch::kBFloat16;
  const torch::Tensor x = reduced ? input.to(torch::kFloat) : input;
  if (bits_ == 1) return sign_.quantize(x, grid());
  if (!calibrated_) {
    calibrated_ = true;
    multi_bit_->calibrate(x, grid());
  }
  return multi_bit_->quantize(x, grid());
}

}  // namespace ctmq
