#pragma once
// The loop of double_conv_affine_row, included by the portable and the AVX2 kernel files so the
// compiler vectorizes it for each file's instruction set. Internal linkage: each file keeps its
// own copy.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ctmq/engine/binary_conv.h"

namespace ctmq::engine::detail {
namespace {

inline void double_conv_affine_row_impl(const FloatConvGeometry& g, const double* __restrict padded,
                                        const double* __restrict weights,
                                        const double* __restrict factor,
                                        const double* __restrict offset, int64_t oy,
                                        float* __restrict out) {
  const int64_t oc = g.out_channels, ic = g.in_channels, k = g.kernel;
  const int64_t padded_w = g.in_w + 2 * g.pad, ow = g.out_w();
  std::vector<double> acc(static_cast<size_t>(oc));
  double* __restrict a = acc.data();
  for (int64_t ox = 0; ox < ow; ++ox) {
    for (int64_t o = 0; o < oc; ++o) a[o] = 0.0;
    for (int64_t ky = 0; ky < k; ++ky) {
      const double* row = padded + ((oy * g.stride + ky) * padded_w + ox * g.stride) * ic;
      const double* w = weights + ky * k * ic * oc;
      // The kx and channel loops are one run of k * ic inputs, contiguous in both.
      for (int64_t t = 0; t < k * ic; ++t) {
        const double v = row[t];
        const double* wt = w + t * oc;
        for (int64_t o = 0; o < oc; ++o) a[o] += v * wt[o];
      }
    }
    float* y = out + ox * oc;
    for (int64_t o = 0; o < oc; ++o) y[o] = static_cast<float>(a[o] * factor[o] + offset[o]);
  }
}

}  // namespace
}  // namespace ctmq::engine::detail
