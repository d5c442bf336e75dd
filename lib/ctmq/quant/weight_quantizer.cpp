#include "ctmq/quant/weight_quantizer.h"

#include <cmath>

#include "ctmq/core/errors.h"
#include "ctmq/quant/bits.h"
#include "ctmq/quant/functions.h"

namespace ctmq {
namespace {

constexpr double kMinStep = 1e-8;

torch::Tensor group_view(const torch::Tensor& per_group, const torch::Tensor& like) {
  std::vector<int64_t> shape(static_cast<size_t>(like.dim()), 1);
  if (!shape.empty()) shape[0] = per_group.numel();
  return per_group.reshape(shape);
}

// DoReFa's q = 2 u / L - 1 with u in 0..L, u shifted by 2^(b-1) into the signed grid.
EncodedWeight dorefa_encoding(const torch::Tensor& q, int bits) {
  const double levels = static_cast<double>(unsigned_qmax(bits));
  const double half = static_cast<double>(signed_qn(bits));
  torch::TensorOptions options = q.options().dtype(torch::kFloat);
  EncodedWeight out;
  out.bits = bits;
  out.codes = torch::round((q.detach() + 1) * (levels / 2)).sub_(half).to(torch::kLong);
  out.scale = torch::full({1}, 2.0 / levels, options);
  out.offset = torch::full({1}, 2.0 * half / levels - 1.0, options);
  return out;
}

}  // namespace

torch::Tensor decode_weight(const EncodedWeight& encoded) {
  torch::Tensor codes = encoded.codes.to(torch::kFloat);
  return codes * group_view(encoded.scale, codes) + group_view(encoded.offset, codes);
}

WeightQuantizerImpl::WeightQuantizerImpl(WeightQuantizerOptions options)
    : options_(std::move(options)) {
  if (options_.family != "dorefa" && options_.family != "lsq") {
    throw SpecError("/quant/weights: unknown weight quantizer '" + options_.family +
                    "' (expected dorefa or lsq)");
  }
  if (options_.granularity != "layer" && options_.granularity != "channel") {
    throw SpecError("/quant/weight_granularity: unknown granularity '" + options_.granularity +
                    "' (expected layer or channel)");
  }
  if (options_.family == "lsq") {
    const int64_t groups = options_.granularity == "channel" ? options_.out_channels : 1;
    step_ = register_parameter("step", torch::ones({groups}));
    calibrated_bits_ = register_buffer("calibrated_bits", torch::zeros({}, torch::kLong));
  }
}

void WeightQuantizerImpl::set_bits(int bits) {
  check_bits(bits, "weight quantizer");
  bits_ = bits;
  calibrated_ = false;
}

torch::Tensor WeightQuantizerImpl::effective_step() const {
  return step_.defined() ? step_.clamp_min(kMinStep) : torch::Tensor();
}

void WeightQuantizerImpl::calibrate(const torch::Tensor& w) {
  calibrated_ = true;
  if (options_.family != "lsq") return;
  torch::NoGradGuard no_grad;
  const int64_t previous = calibrated_bits_.item<int64_t>();
  const double qp = static_cast<double>(signed_qp(bits_));
  if (previous == 0) {
    torch::Tensor mean_abs =
        step_.numel() == 1 ? w.abs().mean().reshape({1}) : w.abs().reshape({w.size(0), -1}).mean(1);
    step_.copy_(mean_abs.mul(2.0 / std::sqrt(qp)).clamp_min(kMinStep));
  } else if (previous != bits_) {
    step_.mul_(static_cast<double>(signed_qp(static_cast<int>(previous))) / qp);
  }
  calibrated_bits_.fill_(bits_);
}

torch::Tensor WeightQuantizerImpl::forward(const torch::Tensor& w) {
  if (is_float_bits(bits_)) return w;
  if (bits_ == 1) return binarize_weight(w);
  if (!calibrated_) calibrate(w);
  if (options_.family == "dorefa") {
    // The value is rebuilt from the integer codes exactly as an exported model does, so export
    // reproduces the logits bit for bit; the gradient is DoReFa's (q - q.detach() is 0).
    torch::Tensor q = dorefa_weight(w, bits_);
    return decode_weight(dorefa_encoding(q, bits_)) + (q - q.detach());
  }
  // LSQ's gradient scale 1/sqrt(N Qp), N = weights sharing one step (the paper's N_W).
  const double per_group = static_cast<double>(w.numel()) / static_cast<double>(step_.numel());
  const double grad_scale = 1.0 / std::sqrt(per_group * static_cast<double>(signed_qp(bits_)));
  return lsq_quantize(w, effective_step(), -signed_qn(bits_), signed_qp(bits_), grad_scale);
}

EncodedWeight WeightQuantizerImpl::encode(const torch::Tensor& w) {
  if (is_float_bits(bits_)) throw Error("weight quantizer: cannot encode full-precision weights");
  torch::NoGradGuard no_grad;
  EncodedWeight out;
  out.bits = bits_;
  const torch::Tensor q = forward(w).detach();
  if (bits_ == 1) {
    out.scale = binary_weight_scale(w).reshape({-1}).to(torch::kFloat);
    out.codes = w.ge(0).to(torch::kLong).mul_(2).sub_(1);
    out.offset = torch::zeros_like(out.scale);
  } else if (options_.family == "dorefa") {
    out = dorefa_encoding(q, bits_);
  } else {
    torch::Tensor step = effective_step().to(torch::kFloat);
    out.codes = torch::round(q / group_view(step, q))
                    .clamp_(-signed_qn(bits_), signed_qp(bits_))
                    .to(torch::kLong);
    out.scale = step.clone();
    out.offset = torch::zeros_like(step);
  }
  return out;
}

}  // namespace ctmq
