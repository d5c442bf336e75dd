#include "ctmq/quant/cpu_kernels.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace ctmq::cpu {
namespace {

// Elements per task: big enough to amortise the thread hand-off.
constexpr int64_t kGrain = 32768;

}  // namespace

bool fusable(const torch::Tensor& x) {
  return x.device().is_cpu() && x.scalar_type() == torch::kFloat && x.is_contiguous();
}

torch::Tensor sign_forward(const torch::Tensor& x) {
  torch::Tensor out = torch::empty_like(x);
  const float* in = x.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) o[i] = in[i] >= 0.f ? 1.f : -1.f;
  });
  return out;
}

torch::Tensor approx_sign_backward(const torch::Tensor& x, const torch::Tensor& grad) {
  torch::Tensor g = grad.contiguous();
  torch::Tensor out = torch::empty_like(x);
  const float* in = x.data_ptr<float>();
  const float* gi = g.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      o[i] = gi[i] * std::fmax(0.f, 2.f - 2.f * std::fabs(in[i]));
    }
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
  at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float code = std::nearbyint((in[i] + shift) * inv_scale);
      code = std::fmin(std::fmax(code, 0.f), top);
      o[i] = code * scale - shift;
    }
  });
  return out;
}

std::pair<torch::Tensor, double> pact_backward(const torch::Tensor& x, const torch::Tensor& grad,
                                               float alpha, bool is_signed) {
  torch::Tensor g = grad.contiguous();
  torch::Tensor out = torch::empty_like(x);
  const float* in = x.data_ptr<float>();
  const float* gi = g.data_ptr<float>();
  float* o = out.data_ptr<float>();
  const float low = is_signed ? -alpha : 0.f;
  double grad_alpha = at::parallel_reduce(
      0, x.numel(), kGrain, 0.0,
      [&](int64_t begin, int64_t end, double sum) {
        for (int64_t i = begin; i < end; ++i) {
          const float v = in[i];
          if (v > alpha) {
            sum += gi[i];
            o[i] = 0.f;
          } else if (v < low) {
            if (is_signed) sum -= gi[i];
            o[i] = 0.f;
          } else {
            o[i] = gi[i];
          }
        }
        return sum;
      },
      [](double a, double b) { return a + b; });
  return {out, grad_alpha};
}

}  // namespace ctmq::cpu
