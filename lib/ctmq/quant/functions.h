#pragma once
// Differentiable quantization functions. Each is one fused ATen op or a custom autograd
// Function with few kernel launches, so that quantized training costs little more than float.

#include <torch/torch.h>

namespace ctmq {

/// 1-bit weights (XNOR-Net): sign(w) * mean|w| over each output channel (dim 0), with
/// sign(0) = +1 so exactly two values per channel. Backward is the clipped straight-through
/// estimator dL/dw = dL/dq * 1{|w| <= 1}; the channel scale is treated as a constant.
torch::Tensor binarize_weight(const torch::Tensor& w);

/// The per-output-channel scale binarize_weight uses: mean |w| over all dims but dim 0.
torch::Tensor binary_weight_scale(const torch::Tensor& w);

/// 1-bit activations: sign(x) in {-1, +1} (sign(0) = +1) with Bi-Real Net's ApproxSign
/// gradient: dq/dx = 2 + 2x on [-1, 0), 2 - 2x on [0, 1), 0 elsewhere.
torch::Tensor approx_sign(const torch::Tensor& x);

/// PACT (Choi et al. 2018) with a learned clip level alpha (a 1-element tensor).
/// Unsigned: clip to [0, alpha], 2^b uniform levels 0, alpha/(2^b-1), ..., alpha.
/// Signed: clip to [-alpha, alpha], 2^b uniform levels -alpha, ..., alpha.
/// Gradients: dq/dx = 1 inside the clip range, else 0 (STE); dq/dalpha = 1 where x > alpha,
/// -1 where x < -alpha (signed only), else 0 (the paper's eq. 3).
torch::Tensor pact_quantize(const torch::Tensor& x, const torch::Tensor& alpha, int bits,
                            bool is_signed);

/// LSQ (Esser et al. 2020): q = s * clamp(round(x / s), qmin, qmax) with a learned step s.
/// `step` has 1 element (per tensor) or size(0) elements (per output channel, axis 0).
/// With r = round(x/s) ("inside" means qmin <= r <= qmax, since the clamp follows the rounding
/// as in torch's fake-quant ops): dq/dx = 1 inside, else 0 (STE); dq/ds = r - x/s inside, qmin
/// below, qmax above, multiplied by `grad_scale` (LSQ uses 1/sqrt(N * Qp)).
torch::Tensor lsq_quantize(const torch::Tensor& x, const torch::Tensor& step, int64_t qmin,
                           int64_t qmax, double grad_scale);

/// DoReFa weights (Zhou et al. 2016): t = tanh(w) / (2 max|tanh w|) + 0.5 quantized to
/// 2^b uniform levels of [0, 1], mapped back to [-1, 1]; STE through the rounding.
torch::Tensor dorefa_weight(const torch::Tensor& w, int bits);

}  // namespace ctmq
