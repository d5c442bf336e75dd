#include "ctmq/engine/epilogue.h"

#include <algorithm>
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
    const float slope = affine.factor[i];
    auto positive = [&](int32_t dot) { return affine.value(c, dot) >= 0.f; };
    if (slope == 0.f) {
      out.direction[i] = 0;
      out.threshold[i] = positive(0) ? 0 : 1;
      continue;
    }
    // value() is monotone in dot (each rounded operation is), so the dots giving +1 are those
    // at or past one boundary: binary search for it. A NaN slope gives -1 everywhere.
    const bool rising = slope > 0.f;
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

void affine_rows(KernelIsa isa, const ChannelAffine& affine, const int32_t* dots, int64_t pixels,
                 const float* residual, float* out, uint64_t* signs) {
  const int64_t channels = affine.channels();
  if (static_cast<int64_t>(affine.offset.size()) != channels) {
    throw std::logic_error("affine_rows: factor and offset differ in length");
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
