#include "ctmq/quant/cpu_kernels.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

namespace ctmq::cpu {
namespace {

// Elements per task: big enough to amortise the thread hand-off.
constexpr int64_t kGrain = 32768;

// Adding and subtracting 1.5 * 2^23 rounds a float in [0, 2^22] to the nearest integer, ties to
// even, exactly as std::nearbyint (and torch's fake-quant ops) do under the default rounding
// mode, in two vectorizable additions instead of a libm call.
constexpr float kRoundMagic = 12582912.0f;

// The loops below are plain functions over restrict pointers and values: GCC vectorizes none of
// them when they read parameters captured by reference (a store to `out` might change them) or
// call libm's fminf/fmaxf/nearbyintf, which it does not inline without -ffast-math. Measured:
// the W4A4 and W1A1 training steps ran 1.3x to 1.6x slower with such scalar loops.

void sign_range(const float* __restrict in, float* __restrict out, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] >= 0.f ? 1.f : -1.f;
}

void approx_sign_grad_range(const float* __restrict in, const float* __restrict grad,
                            float* __restrict out, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float slope = 2.f - 2.f * std::fabs(in[i]);
    out[i] = grad[i] * (slope > 0.f ? slope : 0.f);
  }
}

void pact_range(const float* __restrict in, float* __restrict out, int64_t n, float shift,
                float inv_scale, float scale, float top) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    // Clamping before rounding gives the same code as after (the bounds are integers) and keeps
    // the value where the magic-number rounding is exact.
    float v = (in[i] + shift) * inv_scale;
    v = v < 0.f ? 0.f : v;
    v = v > top ? top : v;
    const float code = (v + kRoundMagic) - kRoundMagic;
    out[i] = code * scale - shift;
  }
}

/// Writes the input gradient and returns this range's contribution to d/d alpha.
float pact_grad_range(const float* __restrict in, const float* __restrict grad,
                      float* __restrict out, int64_t n, float alpha, float low, float below_sign) {
  float grad_alpha = 0.f;
#pragma omp simd reduction(+ : grad_alpha)
  for (int64_t i = 0; i < n; ++i) {
    const float v = in[i];
    const float g = grad[i];
    const bool above = v > alpha;
    const bool below = v < low;
    grad_alpha += above ? g : (below ? below_sign * g : 0.f);
    out[i] = (above || below) ? 0.f : g;
  }
  return grad_alpha;
}

}  // namespace

bool fusable(const torch::Tensor& x) {
  // Elementwise loops only need dense memory: NCHW or channels-last (the outputs are made with
  // empty_like, which keeps the layout, and gradients are brought to the same layout).
  return x.device().is_cpu() && x.scalar_type() == torch::kFloat &&
         (x.is_contiguous() || x.is_contiguous(torch::MemoryFormat::ChannelsLast));
}

torch::Tensor sign_forward(const torch::Tensor& x) {
  torch::Tensor out = torch::empty_like(x);
  const float* in = x.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, x.numel(), kGrain, [in, o](int64_t begin, int64_t end) {
    sign_range(in + begin, o + begin, end - begin);
  });
  return out;
}

torch::Tensor approx_sign_backward(const torch::Tensor& x, const torch::Tensor& grad) {
  torch::Tensor g = grad.contiguous(x.suggest_memory_format());
  torch::Tensor out = torch::empty_like(x);
  const float* in = x.data_ptr<float>();
  const float* gi = g.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, x.numel(), kGrain, [in, gi, o](int64_t begin, int64_t end) {
    approx_sign_grad_range(in + begin, gi + begin, o + begin, end - begin);
  });
  return out;
}

torch::Tensor pact_forward(const torch::Tensor& x, float alpha, int64_t levels, bool is_signed) {
  torch::Tensor out = torch::empty_like(x);
  const float* in = x.data_ptr<float>();
  float* o = out.data_ptr<float>();
  // The signed grid is the unsigned grid of [0, 2 alpha] shifted by -alpha.
  const float scale = is_signed ? alpha * static_cast<float>(2.0 / levels) : alpha / levels;
  const float inv_scale = 1.0f / scale;
  const float shift = is_signed ? alpha : 0.f;
  const float top = static_cast<float>(levels);
  at::parallel_for(0, x.numel(), kGrain, [=](int64_t begin, int64_t end) {
    pact_range(in + begin, o + begin, end - begin, shift, inv_scale, scale, top);
  });
  return out;
}

std::pair<torch::Tensor, double> pact_backward(const torch::Tensor& x, const torch::Tensor& grad,
                                               float alpha, bool is_signed) {
  torch::Tensor g = grad.contiguous(x.suggest_memory_format());
  torch::Tensor out = torch::empty_like(x);
  const float* in = x.data_ptr<float>();
  const float* gi = g.data_ptr<float>();
  float* o = out.data_ptr<float>();
  const float low = is_signed ? -alpha : 0.f;
  const float below_sign = is_signed ? -1.f : 0.f;
  double grad_alpha = at::parallel_reduce(
      0, x.numel(), kGrain, 0.0,
      [=](int64_t begin, int64_t end, double sum) {
        // Float sums over short blocks, added up in double: vector speed, little rounding.
        constexpr int64_t kBlock = 4096;
        for (int64_t b = begin; b < end; b += kBlock) {
          const int64_t n = std::min(end - b, kBlock);
          sum += pact_grad_range(in + b, gi + b, o + b, n, alpha, low, below_sign);
        }
        return sum;
      },
      [](double a, double b) { return a + b; });
  return {out, grad_alpha};
}

}  // namespace ctmq::cpu
