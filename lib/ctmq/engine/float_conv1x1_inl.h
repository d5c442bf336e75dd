#pragma once
// The loop of float_conv1x1_rows, included by the portable and the AVX2 kernel files so the
// compiler vectorizes it for each file's instruction set. Internal linkage: each file keeps
// its own copy.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ctmq::engine::detail {
namespace {

inline void float_conv1x1_rows_impl(const float* __restrict x, int64_t pixels, int64_t in_channels,
                                    const float* __restrict weights, int64_t out_channels,
                                    const float* __restrict alpha, const float* __restrict beta,
                                    float* __restrict out) {
  std::vector<float> acc(static_cast<size_t>(out_channels));
  float* __restrict a = acc.data();
  for (int64_t p = 0; p < pixels; ++p) {
    for (int64_t o = 0; o < out_channels; ++o) a[o] = 0.f;
    const float* row = x + p * in_channels;
    for (int64_t c = 0; c < in_channels; ++c) {
      const float v = row[c];
      const float* w = weights + c * out_channels;
      for (int64_t o = 0; o < out_channels; ++o) a[o] += v * w[o];
    }
    float* y = out + p * out_channels;
    for (int64_t o = 0; o < out_channels; ++o) y[o] = a[o] * alpha[o] + beta[o];
  }
}

}  // namespace
}  // namespace ctmq::engine::detail
