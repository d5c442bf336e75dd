#pragma once
// Single-pass CPU loops for the activation quantizers, the hottest quantization code: an
// activation tensor is touched once per direction instead of six to eight times by a chain of
// ATen ops. Used for contiguous float32 CPU tensors; other devices and types keep the ATen path.

#include <torch/torch.h>

namespace ctmq::cpu {

/// True when the fused loops below can take `x`.
bool fusable(const torch::Tensor& x);

/// sign(x) in {-1, +1}, sign(0) = +1.
torch::Tensor sign_forward(const torch::Tensor& x);
/// ApproxSign backward: grad * max(0, 2 - 2|x|).
torch::Tensor approx_sign_backward(const torch::Tensor& x, const torch::Tensor& grad);

/// PACT fake quantization with clip level `alpha` and `levels` = 2^b - 1 steps; signed grids
/// span [-alpha, alpha], unsigned ones [0, alpha]. Same rounding as torch's fake-quant op.
torch::Tensor pact_forward(const torch::Tensor& x, float alpha, int64_t levels, bool is_signed);

/// PACT backward in one pass: the input gradient (STE inside the clip range) and d/d alpha
/// (sum of grad where x > alpha, minus the sum where x < -alpha on signed grids).
std::pair<torch::Tensor, double> pact_backward(const torch::Tensor& x, const torch::Tensor& grad,
                                               float alpha, bool is_signed);

}  // namespace ctmq::cpu
