#include "ctmq/quant/weight_methods.h"

#include <cmath>

#include "ctmq/quant/bits.h"
#include "ctmq/quant/functions.h"

namespace ctmq {
namespace {

constexpr double kMinWeightStep = 1e-8;

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

torch::Tensor BinaryWeights::quantize(const torch::Tensor& w, int /*bits*/) {
  return binarize_weight(w);
}

EncodedWeight BinaryWeights::encode(const torch::Tensor& w, const torch::Tensor& /*quantized*/,
                                    int bits) {
  EncodedWeight out;
  out.bits = bits;
  out.scale = binary_weight_scale(w).reshape({-1}).to(torch::kFloat);
  out.codes = w.ge(0).to(torch::kLong).mul_(2).sub_(1);
  out.offset = torch::zeros_like(out.scale);
  return out;
}

torch::Tensor DoReFaWeights::quantize(const torch::Tensor& w, int bits) {
  // The value is rebuilt from the integer codes exactly as an exported model does, so export
  // reproduces the logits bit for bit; the gradient is DoReFa's (q - q.detach() is 0).
  torch::Tensor q = dorefa_weight(w, bits);
  return decode_weight(dorefa_encoding(q, bits)) + (q - q.detach());
}

EncodedWeight DoReFaWeights::encode(const torch::Tensor& /*w*/, const torch::Tensor& quantized,
                                    int bits) {
  return dorefa_encoding(quantized, bits);
}

LsqWeights::LsqWeights(torch::nn::Module& owner, int64_t groups) {
  step_ = owner.register_parameter("step", torch::ones({groups}));
  calibrated_bits_ = owner.register_buffer("calibrated_bits", torch::zeros({}, torch::kLong));
}

torch::Tensor LsqWeights::effective_step() const {
  return step_.clamp_min(kMinWeightStep);
}

void LsqWeights::calibrate(const torch::Tensor& w, int bits) {
  torch::NoGradGuard no_grad;
  const int64_t previous = calibrated_bits_.item<int64_t>();
  const double qp = static_cast<double>(signed_qp(bits));
  if (previous == 0) {
    torch::Tensor mean_abs =
        step_.numel() == 1 ? w.abs().mean().reshape({1}) : w.abs().reshape({w.size(0), -1}).mean(1);
    step_.copy_(mean_abs.mul(2.0 / std::sqrt(qp)).clamp_min(kMinWeightStep));
  } else if (previous != bits) {
    step_.mul_(static_cast<double>(signed_qp(static_cast<int>(previous))) / qp);
  }
  calibrated_bits_.fill_(bits);
}

torch::Tensor LsqWeights::quantize(const torch::Tensor& w, int bits) {
  // LSQ's gradient scale 1/sqrt(N Qp), N = weights sharing one step (the paper's N_W).
  const double per_group = static_cast<double>(w.numel()) / static_cast<double>(step_.numel());
  const double grad_scale = 1.0 / std::sqrt(per_group * static_cast<double>(signed_qp(bits)));
  return lsq_quantize(w, effective_step(), -signed_qn(bits), signed_qp(bits), grad_scale);
}

EncodedWeight LsqWeights::encode(const torch::Tensor& /*w*/, const torch::Tensor& quantized,
                                 int bits) {
  EncodedWeight out;
  out.bits = bits;
  torch::Tensor step = effective_step().to(torch::kFloat);
  out.codes = torch::round(quantized / group_view(step, quantized))
                  .clamp_(-signed_qn(bits), signed_qp(bits))
                  .to(torch::kLong);
  out.scale = step.clone();
  out.offset = torch::zeros_like(step);
  return out;
}

}  // namespace ctmq
