// The AVX2 kernels. Compiled with -mavx2 -mpopcnt for this file only (CMakeLists.txt) and
// called only where cpu_has_avx2() says the CPU runs them.
//
// One step XORs one input word, broadcast to every lane, with the words of kLanes = 16 output
// channels (four registers) and counts the set bits per byte with the nibble lookup (Mula's
// vpshufb popcount). The byte counts grow by at most 8 a step, so 31 steps fit in a byte before
// vpsadbw folds them into 64-bit lane totals.

#include "ctmq/engine/binary_conv.h"
#include "ctmq/engine/binary_conv_row_inl.h"
#include "ctmq/engine/double_conv_inl.h"
#include "ctmq/engine/epilogue.h"
#include "ctmq/engine/float_conv1x1_inl.h"

#include <algorithm>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace ctmq::engine::detail {

#if defined(__AVX2__)
namespace {

constexpr int64_t kStepsPerByteCount = 31;

inline __m256i popcount_bytes(__m256i v, __m256i table, __m256i low_nibbles) {
  const __m256i low = _mm256_and_si256(v, low_nibbles);
  const __m256i high = _mm256_and_si256(_mm256_srli_epi16(v, 4), low_nibbles);
  return _mm256_add_epi8(_mm256_shuffle_epi8(table, low), _mm256_shuffle_epi8(table, high));
}

struct PopcountTables {
  __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2,
                                   2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  __m256i low_nibbles = _mm256_set1_epi8(0x0f);
};

/// The set bits of (x XOR the four 64-bit weight words at w), counted per byte.
inline __m256i mismatch_bytes(const PopcountTables& t, __m256i x, const __m256i* w) {
  return popcount_bytes(_mm256_xor_si256(x, _mm256_loadu_si256(w)), t.table, t.low_nibbles);
}

/// Stores one pixel's dots from its per-register mismatch totals (64-bit lanes, register k
/// holding the lane block's slots 4k to 4k + 3): dot = total - 2 * (mismatches - correction),
/// written to out[0, lanes).
inline void store_dots(__m256i sum0, __m256i sum1, __m256i sum2, __m256i sum3, int64_t total,
                       const int32_t* correction, int64_t lanes, int32_t* out) {
  // The counts fit in 32 bits: register 1's go into the high halves of register 0's 64-bit
  // lanes (and 3's into 2's), which puts channels 0 to 15 in order (lane_slot).
  __m256i counts_lo = _mm256_or_si256(sum0, _mm256_slli_epi64(sum1, 32));
  __m256i counts_hi = _mm256_or_si256(sum2, _mm256_slli_epi64(sum3, 32));
  if (correction != nullptr) {
    const __m256i* c = reinterpret_cast<const __m256i*>(correction);
    counts_lo = _mm256_sub_epi32(counts_lo, _mm256_loadu_si256(c));
    counts_hi = _mm256_sub_epi32(counts_hi, _mm256_loadu_si256(c + 1));
  }
  const __m256i totals = _mm256_set1_epi32(static_cast<int>(total));
  const __m256i dots_lo = _mm256_sub_epi32(totals, _mm256_add_epi32(counts_lo, counts_lo));
  const __m256i dots_hi = _mm256_sub_epi32(totals, _mm256_add_epi32(counts_hi, counts_hi));
  if (lanes == kLanes) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), dots_lo);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), dots_hi);
    return;
  }
  alignas(32) int32_t lane_dots[kLanes];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lane_dots), dots_lo);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lane_dots + 8), dots_hi);
  for (int64_t lane = 0; lane < lanes; ++lane) out[lane] = lane_dots[lane];
}

/// The dot products of one pixel with one lane block: `count` input words input[offsets[j]]
/// against the block's words at weight_offsets[j], dot = total - 2 * (mismatches - correction),
/// written to out[0, lanes).
inline void block_dots(const PopcountTables& t, const uint64_t* input, const int32_t* offsets,
                       const uint64_t* block, const int32_t* weight_offsets, int64_t count,
                       int64_t total, const int32_t* correction, int64_t lanes, int32_t* out) {
  const __m256i zero = _mm256_setzero_si256();
  __m256i sum0 = zero, sum1 = zero, sum2 = zero, sum3 = zero;
  for (int64_t j = 0; j < count;) {
    const int64_t end = std::min(count, j + kStepsPerByteCount);
    __m256i c0 = zero, c1 = zero, c2 = zero, c3 = zero;
    for (; j < end; ++j) {
      const __m256i a = _mm256_set1_epi64x(static_cast<long long>(input[offsets[j]]));
      const __m256i* w = reinterpret_cast<const __m256i*>(block + weight_offsets[j]);
      c0 = _mm256_add_epi8(c0, mismatch_bytes(t, a, w));
      c1 = _mm256_add_epi8(c1, mismatch_bytes(t, a, w + 1));
      c2 = _mm256_add_epi8(c2, mismatch_bytes(t, a, w + 2));
      c3 = _mm256_add_epi8(c3, mismatch_bytes(t, a, w + 3));
    }
    sum0 = _mm256_add_epi64(sum0, _mm256_sad_epu8(c0, zero));
    sum1 = _mm256_add_epi64(sum1, _mm256_sad_epu8(c1, zero));
    sum2 = _mm256_add_epi64(sum2, _mm256_sad_epu8(c2, zero));
    sum3 = _mm256_add_epi64(sum3, _mm256_sad_epu8(c3, zero));
  }
  store_dots(sum0, sum1, sum2, sum3, total, correction, lanes, out);
}

/// block_dots for two pixels at once, input and input + next, with no correction: their
/// chains are independent, so one pixel's popcounts fill the other's latencies.
inline void pair_dots(const PopcountTables& t, const uint64_t* input, int64_t next,
                      const int32_t* offsets, const uint64_t* block, const int32_t* weight_offsets,
                      int64_t count, int64_t total, int64_t lanes, int32_t* out, int64_t next_out) {
  if (count > kStepsPerByteCount || lanes != kLanes) {
    block_dots(t, input, offsets, block, weight_offsets, count, total, nullptr, lanes, out);
    block_dots(t, input + next, offsets, block, weight_offsets, count, total, nullptr, lanes,
               out + next_out);
    return;
  }
  const __m256i zero = _mm256_setzero_si256();
  __m256i a0 = zero, a1 = zero, a2 = zero, a3 = zero;
  __m256i b0 = zero, b1 = zero, b2 = zero, b3 = zero;
  for (int64_t j = 0; j < count; ++j) {
    const uint64_t* at = input + offsets[j];
    const __m256i x = _mm256_set1_epi64x(static_cast<long long>(at[0]));
    const __m256i y = _mm256_set1_epi64x(static_cast<long long>(at[next]));
    const __m256i* w = reinterpret_cast<const __m256i*>(block + weight_offsets[j]);
    a0 = _mm256_add_epi8(a0, mismatch_bytes(t, x, w));
    b0 = _mm256_add_epi8(b0, mismatch_bytes(t, y, w));
    a1 = _mm256_add_epi8(a1, mismatch_bytes(t, x, w + 1));
    b1 = _mm256_add_epi8(b1, mismatch_bytes(t, y, w + 1));
    a2 = _mm256_add_epi8(a2, mismatch_bytes(t, x, w + 2));
    b2 = _mm256_add_epi8(b2, mismatch_bytes(t, y, w + 2));
    a3 = _mm256_add_epi8(a3, mismatch_bytes(t, x, w + 3));
    b3 = _mm256_add_epi8(b3, mismatch_bytes(t, y, w + 3));
  }
  auto sad = [zero](__m256i bytes) { return _mm256_sad_epu8(bytes, zero); };
  store_dots(sad(a0), sad(a1), sad(a2), sad(a3), total, nullptr, kLanes, out);
  store_dots(sad(b0), sad(b1), sad(b2), sad(b3), total, nullptr, kLanes, out + next_out);
}

}  // namespace

void binary_conv_row_avx2(const BinaryConvGeometry& g, const uint64_t* weights, RowTaps& row_taps,
                          const uint64_t* input, int64_t oy, int32_t* dots) {
  static_assert(kLanes == 16, "the kernel holds 16 lanes in four registers");
  const PopcountTables tables;
  binary_conv_row_impl(
      g, weights, row_taps, input, oy, dots,
      [&tables](auto... args) { block_dots(tables, args...); },
      [&tables](auto... args) { pair_dots(tables, args...); });
}

namespace {

/// affine_rows for AVX2: the portable loop's float operations in its order, unfused, eight
/// channels a register; a word's sign bits gather in a register.
template <bool kResidual>
void affine_rows_avx2_impl(const ChannelAffine& affine, const int32_t* dots, int64_t pixels,
                           const float* residual, float* out, uint64_t* signs) {
  const int64_t channels = affine.channels();
  const float* factor = affine.factor.data();
  const float* offset = affine.offset.data();
  const int64_t words = words_for(channels);
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t p = 0; p < pixels; ++p) {
    const int32_t* d = dots + p * channels;
    float* o = out + p * channels;
    const float* r = kResidual ? residual + p * channels : nullptr;
    for (int64_t w = 0; w < words; ++w) {
      const int64_t begin = w * 64, end = std::min(channels, begin + 64);
      uint64_t bits = 0;
      int64_t c = begin;
      for (; c + 8 <= end; c += 8) {
        __m256 v = _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + c)));
        v = _mm256_add_ps(_mm256_mul_ps(v, _mm256_loadu_ps(factor + c)),
                          _mm256_loadu_ps(offset + c));
        if (kResidual) v = _mm256_add_ps(v, _mm256_loadu_ps(r + c));
        _mm256_storeu_ps(o + c, v);
        // Not (v >= 0), unordered: negative values and NaN give -1, as training's sign().
        const auto negative =
            static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_NGE_UQ)));
        bits |= static_cast<uint64_t>(negative) << (c - begin);
      }
      for (; c < end; ++c) {
        const bool negative = affine_one(affine, c, d[c], kResidual ? r + c : nullptr, o + c);
        bits |= static_cast<uint64_t>(negative) << (c - begin);
      }
      if (signs != nullptr) signs[p * words + w] = bits;
    }
  }
}

}  // namespace

void affine_rows_avx2(const ChannelAffine& affine, const int32_t* dots, int64_t pixels,
                      const float* residual, float* out, uint64_t* signs) {
  if (residual != nullptr) {
    affine_rows_avx2_impl<true>(affine, dots, pixels, residual, out, signs);
  } else {
    affine_rows_avx2_impl<false>(affine, dots, pixels, residual, out, signs);
  }
}

void threshold_rows_avx2(const int32_t* threshold, const int32_t* direction, int64_t channels,
                         const int32_t* dots, int64_t pixels, uint64_t* signs) {
  const int64_t words = words_for(channels);
  for (int64_t p = 0; p < pixels; ++p) {
    const int32_t* d = dots + p * channels;
    for (int64_t w = 0; w < words; ++w) {
      const int64_t begin = w * 64, end = std::min(channels, begin + 64);
      uint64_t bits = 0;
      int64_t c = begin;
      for (; c + 8 <= end; c += 8) {
        // -1 (a set bit) where direction * dot < threshold
        const __m256i product =
            _mm256_mullo_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(direction + c)),
                               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + c)));
        const __m256i below = _mm256_cmpgt_epi32(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(threshold + c)), product);
        const unsigned mask = static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(below)));
        bits |= static_cast<uint64_t>(mask) << (c - begin);
      }
      for (; c < end; ++c) {
        bits |= static_cast<uint64_t>(direction[c] * d[c] < threshold[c]) << (c - begin);
      }
      signs[p * words + w] = bits;
    }
  }
}

namespace {

/// A direct float convolution's inner block: kPixels (1 to 6) output pixels, 16 output
/// channels, in up to 12 accumulator registers (named, not an array: GCC keeps an array of
/// vectors on the stack), one broadcast input and two weight registers. Pixel p reads
/// x[p * pixel_step + r * row_step + t] for `rows` kernel rows r and `taps` inputs t per row,
/// against the 16 weights at w + (r * taps + t) * out_channels; y[p * out_channels + o] =
/// sum * alpha[o] + beta[o] (a BatchNorm).
template <int kPixels>
__attribute__((target("avx2,fma"), always_inline)) inline void float_conv_block(
    const float* x, int64_t pixel_step, int64_t rows, int64_t row_step, int64_t taps,
    const float* w, int64_t out_channels, const float* alpha, const float* beta, float* y) {
  static_assert(kPixels >= 1 && kPixels <= 6, "12 accumulators at most");
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
  __m256 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
  for (int64_t r = 0; r < rows; ++r, x += row_step) {
    for (int64_t t = 0; t < taps; ++t, w += out_channels) {
      const __m256 w0 = _mm256_loadu_ps(w);
      const __m256 w1 = _mm256_loadu_ps(w + 8);
      __m256 v = _mm256_broadcast_ss(x + t);
      a00 = _mm256_fmadd_ps(v, w0, a00);
      a01 = _mm256_fmadd_ps(v, w1, a01);
      if (kPixels > 1) {
        v = _mm256_broadcast_ss(x + pixel_step + t);
        a10 = _mm256_fmadd_ps(v, w0, a10);
        a11 = _mm256_fmadd_ps(v, w1, a11);
      }
      if (kPixels > 2) {
        v = _mm256_broadcast_ss(x + 2 * pixel_step + t);
        a20 = _mm256_fmadd_ps(v, w0, a20);
        a21 = _mm256_fmadd_ps(v, w1, a21);
      }
      if (kPixels > 3) {
        v = _mm256_broadcast_ss(x + 3 * pixel_step + t);
        a30 = _mm256_fmadd_ps(v, w0, a30);
        a31 = _mm256_fmadd_ps(v, w1, a31);
      }
      if (kPixels > 4) {
        v = _mm256_broadcast_ss(x + 4 * pixel_step + t);
        a40 = _mm256_fmadd_ps(v, w0, a40);
        a41 = _mm256_fmadd_ps(v, w1, a41);
      }
      if (kPixels > 5) {
        v = _mm256_broadcast_ss(x + 5 * pixel_step + t);
        a50 = _mm256_fmadd_ps(v, w0, a50);
        a51 = _mm256_fmadd_ps(v, w1, a51);
      }
    }
  }
  const __m256 alpha0 = _mm256_loadu_ps(alpha), alpha1 = _mm256_loadu_ps(alpha + 8);
  const __m256 beta0 = _mm256_loadu_ps(beta), beta1 = _mm256_loadu_ps(beta + 8);
  auto store = [&](int p, __m256 lo, __m256 hi) {
    float* out = y + p * out_channels;
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_mul_ps(lo, alpha0), beta0));
    _mm256_storeu_ps(out + 8, _mm256_add_ps(_mm256_mul_ps(hi, alpha1), beta1));
  };
  store(0, a00, a01);
  if (kPixels > 1) store(1, a10, a11);
  if (kPixels > 2) store(2, a20, a21);
  if (kPixels > 3) store(3, a30, a31);
  if (kPixels > 4) store(4, a40, a41);
  if (kPixels > 5) store(5, a50, a51);
}

constexpr int64_t kFloatBlockPixels = 6;

}  // namespace

__attribute__((target("avx2,fma"))) void float_conv_bn_row_avx2(
    const FloatConvGeometry& g, const float* padded, const float* weights, const float* alpha,
    const float* beta, int64_t oy, float* out) {
  const int64_t padded_w = g.in_w + 2 * g.pad;
  const int64_t cin = g.in_channels;
  const float* padded_row = padded + oy * g.stride * padded_w * cin;
  const int64_t out_w = g.out_w();
  const int64_t pixel_step = g.stride * cin, row_step = padded_w * cin, taps = g.kernel * cin;
  // Output channels outermost: one group's weights (kernel^2 * in_channels * 16 floats, 9 KB
  // for resnet18's stem) stay in L1 while the row is swept.
  for (int64_t o = 0; o < g.out_channels; o += 16) {
    int64_t ox = 0;
    for (; ox + kFloatBlockPixels <= out_w; ox += kFloatBlockPixels) {
      float_conv_block<kFloatBlockPixels>(padded_row + ox * pixel_step, pixel_step, g.kernel,
                                          row_step, taps, weights + o, g.out_channels, alpha + o,
                                          beta + o, out + ox * g.out_channels + o);
    }
    for (; ox < out_w; ++ox) {
      float_conv_block<1>(padded_row + ox * pixel_step, pixel_step, g.kernel, row_step, taps,
                          weights + o, g.out_channels, alpha + o, beta + o,
                          out + ox * g.out_channels + o);
    }
  }
}

__attribute__((target("avx2,fma"))) void float_conv1x1_rows_avx2(
    const float* x, int64_t pixels, int64_t in_channels, const float* weights, int64_t out_channels,
    const float* alpha, const float* beta, float* out) {
  // Whole groups of 16 output channels in registers; the last few channels (a classifier's
  // 1000 = 62 * 16 + 8) in a plain loop.
  const int64_t grouped = out_channels / 16 * 16;
  // Pixel blocks outermost: a block's inputs (6 x in_channels floats) stay in L1 while every
  // output channel group is computed from them.
  int64_t p = 0;
  for (; p + kFloatBlockPixels <= pixels; p += kFloatBlockPixels) {
    for (int64_t o = 0; o < grouped; o += 16) {
      float_conv_block<kFloatBlockPixels>(x + p * in_channels, in_channels, 1, 0, in_channels,
                                          weights + o, out_channels, alpha + o, beta + o,
                                          out + p * out_channels + o);
    }
  }
  for (; p < pixels; ++p) {
    for (int64_t o = 0; o < grouped; o += 16) {
      float_conv_block<1>(x + p * in_channels, in_channels, 1, 0, in_channels, weights + o,
                          out_channels, alpha + o, beta + o, out + p * out_channels + o);
    }
  }
  for (int64_t o = grouped; o < out_channels; ++o) {
    for (int64_t q = 0; q < pixels; ++q) {
      float sum = 0.f;
      for (int64_t c = 0; c < in_channels; ++c) {
        sum += x[q * in_channels + c] * weights[c * out_channels + o];
      }
      out[q * out_channels + o] = sum * alpha[o] + beta[o];
    }
  }
}

/// kPixels output pixels x 8 channels of double_conv_affine_row, in 2 * kPixels registers of
/// four doubles: float_conv_block's scheme in double. FMA in double: the result is rounded to
/// float once, and double's round-off, fused or not, moves it only where the exact value lies
/// within ~1e-16 of a rounding boundary.
template <int kPixels>
__attribute__((target("avx2,fma"), always_inline)) inline void double_conv_block(
    const double* x, int64_t pixel_step, int64_t rows, int64_t row_step, int64_t taps,
    const double* w, int64_t out_channels, const double* factor, const double* offset, float* y) {
  static_assert(kPixels >= 1 && kPixels <= 6, "12 accumulators at most");
  __m256d acc[kPixels][2];
  for (int p = 0; p < kPixels; ++p) acc[p][0] = acc[p][1] = _mm256_setzero_pd();
  for (int64_t r = 0; r < rows; ++r, x += row_step) {
    for (int64_t t = 0; t < taps; ++t, w += out_channels) {
      const __m256d w0 = _mm256_loadu_pd(w);
      const __m256d w1 = _mm256_loadu_pd(w + 4);
      for (int p = 0; p < kPixels; ++p) {
        const __m256d v = _mm256_broadcast_sd(x + p * pixel_step + t);
        acc[p][0] = _mm256_fmadd_pd(v, w0, acc[p][0]);
        acc[p][1] = _mm256_fmadd_pd(v, w1, acc[p][1]);
      }
    }
  }
  const __m256d f0 = _mm256_loadu_pd(factor), f1 = _mm256_loadu_pd(factor + 4);
  const __m256d o0 = _mm256_loadu_pd(offset), o1 = _mm256_loadu_pd(offset + 4);
  for (int p = 0; p < kPixels; ++p) {
    float* dst = y + p * out_channels;
    _mm_storeu_ps(dst, _mm256_cvtpd_ps(_mm256_fmadd_pd(acc[p][0], f0, o0)));
    _mm_storeu_ps(dst + 4, _mm256_cvtpd_ps(_mm256_fmadd_pd(acc[p][1], f1, o1)));
  }
}

__attribute__((target("avx2,fma"))) void double_conv_affine_row_avx2(
    const FloatConvGeometry& g, const double* padded, const double* weights, const double* factor,
    const double* offset, int64_t oy, float* out) {
  if (g.out_channels % 8 != 0) {
    double_conv_affine_row_impl(g, padded, weights, factor, offset, oy, out);
    return;
  }
  const int64_t padded_w = g.in_w + 2 * g.pad;
  const int64_t cin = g.in_channels;
  const double* padded_row = padded + oy * g.stride * padded_w * cin;
  const int64_t out_w = g.out_w();
  const int64_t pixel_step = g.stride * cin, row_step = padded_w * cin, taps = g.kernel * cin;
  for (int64_t o = 0; o < g.out_channels; o += 8) {
    int64_t ox = 0;
    for (; ox + kFloatBlockPixels <= out_w; ox += kFloatBlockPixels) {
      double_conv_block<kFloatBlockPixels>(padded_row + ox * pixel_step, pixel_step, g.kernel,
                                           row_step, taps, weights + o, g.out_channels, factor + o,
                                           offset + o, out + ox * g.out_channels + o);
    }
    for (; ox < out_w; ++ox) {
      double_conv_block<1>(padded_row + ox * pixel_step, pixel_step, g.kernel, row_step, taps,
                           weights + o, g.out_channels, factor + o, offset + o,
                           out + ox * g.out_channels + o);
    }
  }
}

void pack_signs_avx2(const float* x, int64_t pixels, int64_t channels, uint64_t* out) {
  const int64_t words = words_for(channels);
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t p = 0; p < pixels; ++p) {
    const float* row = x + p * channels;
    uint64_t* packed = out + p * words;
    for (int64_t w = 0; w < words; ++w) {
      const int64_t end = std::min<int64_t>(64, channels - w * 64);
      const float* src = row + w * 64;
      uint64_t bits = 0;
      int64_t c = 0;
      // Not (x >= 0), unordered: negative values and NaN give -1, as training's sign().
      for (; c + 8 <= end; c += 8) {
        const __m256 v = _mm256_loadu_ps(src + c);
        const int mask = _mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_NGE_UQ));
        bits |= static_cast<uint64_t>(static_cast<unsigned>(mask)) << c;
      }
      for (; c < end; ++c) bits |= static_cast<uint64_t>(!(src[c] >= 0.f)) << c;
      packed[w] = bits;
    }
  }
}

#else  // a compiler that did not take -mavx2: never selected (cpu_has_avx2 is false there)

void binary_conv_row_avx2(const BinaryConvGeometry& g, const uint64_t* weights, RowTaps& row_taps,
                          const uint64_t* input, int64_t oy, int32_t* dots) {
  binary_conv_row_portable(g, weights, row_taps, input, oy, dots);
}

void pack_signs_avx2(const float* x, int64_t pixels, int64_t channels, uint64_t* out) {
  pack_signs_portable(x, pixels, channels, out);
}

void float_conv_bn_row_avx2(const FloatConvGeometry&, const float*, const float*, const float*,
                            const float*, int64_t, float*) {}

void double_conv_affine_row_avx2(const FloatConvGeometry& g, const double* padded,
                                 const double* weights, const double* factor, const double* offset,
                                 int64_t oy, float* out) {
  double_conv_affine_row_impl(g, padded, weights, factor, offset, oy, out);
}

void float_conv1x1_rows_avx2(const float* x, int64_t pixels, int64_t in_channels,
                             const float* weights, int64_t out_channels, const float* alpha,
                             const float* beta, float* out) {
  float_conv1x1_rows_impl(x, pixels, in_channels, weights, out_channels, alpha, beta, out);
}

void affine_rows_avx2(const ChannelAffine& affine, const int32_t* dots, int64_t pixels,
                      const float* residual, float* out, uint64_t* signs) {
  affine_rows(KernelIsa::kPortable, affine, dots, pixels, residual, out, signs);
}

void threshold_rows_avx2(const int32_t* threshold, const int32_t* direction, int64_t channels,
                         const int32_t* dots, int64_t pixels, uint64_t* signs) {
  ChannelThreshold t;
  t.threshold.assign(threshold, threshold + channels);
  t.direction.assign(direction, direction + channels);
  threshold_rows(KernelIsa::kPortable, t, dots, pixels, signs);
}

#endif

}  // namespace ctmq::engine::detail
