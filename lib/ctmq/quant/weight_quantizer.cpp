#include "ctmq/quant/weight_quantizer.h"

#include "ctmq/core/errors.h"
#include "ctmq/quant/bits.h"

namespace ctmq {

WeightQuantizerImpl::WeightQuantizerImpl(WeightQuantizerOptions options)
    : options_(std::move(options)) {
  switch (options_.method) {
    case WeightMethod::kDoReFa:
      multi_bit_ = std::make_unique<DoReFaWeights>();
      break;
    case WeightMethod::kLsq: {
      const int64_t groups =
          options_.granularity == Granularity::kChannel ? options_.out_channels : 1;
      auto lsq = std::make_unique<LsqWeights>(*this, groups);
      lsq_ = lsq.get();
      multi_bit_ = std::move(lsq);
      break;
    }
  }
}

void WeightQuantizerImpl::set_bits(int bits) {
  check_bits(bits, "weight quantizer");
  bits_ = bits;
  calibrated_ = false;
}

torch::Tensor WeightQuantizerImpl::effective_step() const {
  return lsq_ != nullptr ? lsq_->effective_step() : torch::Tensor();
}

torch::Tensor WeightQuantizerImpl::forward(const torch::Tensor& w) {
  if (is_float_bits(bits_)) return w;
  if (bits_ == 1) return binary_.quantize(w, bits_);
  if (!calibrated_) {
    calibrated_ = true;
    multi_bit_->calibrate(w, bits_);
  }
  return multi_bit_->quantize(w, bits_);
}

EncodedWeight WeightQuantizerImpl::encode(const torch::Tensor& w) {
  if (is_float_bits(bits_)) throw Error("weight quantizer: cannot encode full-precision weights");
  torch::NoGradGuard no_grad;
  const torch::Tensor quantized = forward(w).detach();
  WeightMethodBase& method = bits_ == 1 ? static_cast<WeightMethodBase&>(binary_) : *multi_bit_;
  return method.encode(w, quantized, bits_);
}

}  // namespace ctmq
