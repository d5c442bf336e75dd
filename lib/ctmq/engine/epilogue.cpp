#include "ctmq/engine/epilogue.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "ctmq/engine/binary_conv.h"

namespace ctmq::engine {

ChannelThreshold threshold_of(const ChannelAffine& affine, int32_t max_abs_dot) {
  const int64_t channels = affine.channels();
  ChannelThreshold out;
  out.threshold.resize(static_cast<size_t>(channels));
  out.direction.resize(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    const size_t i = static_cast<size_t>(c);
    const double slope = affine.scale[i] * affine.alpha[i];
    auto positive = [&](int32_t dot) { return affine.value(c, dot) >= 0.0; };
    if (slope == 0.0) {
      out.direction[i] = 0;
      out.threshold[i] = positive(0) ? 0 : 1;
      continue;
    }
    // value() is monotone in dot (each rounded operation is), so the dots giving +1 are those
    // at or past one boundary: binary search for it.
    const bool rising = slope > 0.0;
    int32_t lo = -max_abs_dot;
    int32_t hi = max_abs_dot + 1;
    // rising: smallest dot that gives +1 (hi: none); falling: smallest dot that gives -1.
    while (lo < hi) {
      const int32_t mid = lo + (hi - lo) / 2;
      if (positive(mid) == rising) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    if (rising) {  // -1 where dot < lo
      out.direction[i] = 1;
      out.threshold[i] = lo;
    } else {  // -1 where dot >= lo, i.e. -dot < -(lo - 1)
      out.direction[i] = -1;
      out.threshold[i] = -(lo - 1);
    }
  }
  return out;
}

void ChannelAffine::derive_float_terms(int32_t max_abs_dot) {
  const size_t n = scale.size();
  if (alpha.size() != n || beta.size() != n) {
    throw std::invalid_argument("ChannelAffine: scale, alpha and beta differ in length");
  }
  factor.resize(n);
  offset.resize(n);
  margin.resize(n);
  for (size_t c = 0; c < n; ++c) {
    const double slope = scale[c] * alpha[c];
    factor[c] = static_cast<float>(slope);
    offset[c] = static_cast<float>(beta[c]);
    // The float value's distance from the double one, residual aside: each of its two
    // operations and the rounding of factor and offset add at most 2^-24 of these terms (2^-22
    // in all); 2^-20 leaves a factor of four.
    const double bound = 0x1p-20 * (max_abs_dot * std::fabs(slope) + std::fabs(beta[c]));
    margin[c] = std::nextafter(static_cast<float>(bound), INFINITY);
  }
}

bool exact_sign_bit(const ChannelAffine& affine, int64_t channel, int32_t dot,
                    const float* residual) {
  double v = affine.value(channel, dot);
  if (residual != nullptr) v = v + static_cast<double>(*residual);
  // Not (v >= 0): negative values and NaN give -1, as training's sign().
  return !(v >= 0.0);
}

void affine_rows(KernelIsa isa, const ChannelAffine& affine, const int32_t* dots, int64_t pixels,
                 const float* residual, float* out, uint64_t* signs) {
  const int64_t channels = affine.channels();
  if (static_cast<int64_t>(affine.margin.size()) != channels) {
    throw std::logic_error("affine_rows: derive_float_terms() was not called");
  }
  if (isa == KernelIsa::kAvx2) {
    detail::affine_rows_avx2(affine, dots, pixels, residual, out, signs);
    return;
  }
  const int64_t words = words_for(channels);
  for (int64_t p = 0; p < pixels; ++p) {
    const int32_t* d = dots + p * channels;
    const float* r = residual != nullptr ? residual + p * channels : nullptr;
    float* o = out + p * channels;
    uint64_t* s = signs != nullptr ? signs + p * words : nullptr;
    for (int64_t w = 0; w < words; ++w) {
      uint64_t bits = 0;
      const int64_t end = std::min<int64_t>(64, channels - w * 64);
      for (int64_t i = 0; i < end; ++i) {
        const int64_t c = w * 64 + i;
        const bool negative = affine_one(affine, c, d[c], r != nullptr ? r + c : nullptr, o + c);
        bits |= static_cast<uint64_t>(negative) << i;
      }
      if (s != nullptr) s[w] = bits;
    }
  }
}

void threshold_rows(KernelIsa isa, const ChannelThreshold& thresholds, const int32_t* dots,
                    int64_t pixels, uint64_t* signs) {
  const int64_t channels = static_cast<int64_t>(thresholds.threshold.size());
  if (isa == KernelIsa::kAvx2) {
    detail::threshold_rows_avx2(thresholds.threshold.data(), thresholds.direction.data(), channels,
                                dots, pixels, signs);
    return;
  }
  const int32_t* threshold = thresholds.threshold.data();
  const int32_t* direction = thresholds.direction.data();
  const int64_t words = words_for(channels);
  for (int64_t p = 0; p < pixels; ++p) {
    const int32_t* d = dots + p * channels;
    uint64_t* s = signs + p * words;
    for (int64_t w = 0; w < words; ++w) {
      uint64_t bits = 0;
      const int64_t end = std::min<int64_t>(64, channels - w * 64);
      for (int64_t c = 0; c < end; ++c) {
        const int64_t k = w * 64 + c;
        bits |= static_cast<uint64_t>(direction[k] * d[k] < threshold[k]) << c;
      }
      s[w] = bits;
    }
  }
}

}  // namespace ctmq::engine
