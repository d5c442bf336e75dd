// The AVX2 kernels. Compiled with -mavx2 -mpopcnt for this file only (CMakeLists.txt) and
// called only where cpu_has_avx2() says the CPU runs them.
//
// One step XORs one input word, broadcast to every lane, with the words of kLanes = 16 output
// channels (four registers) and counts the set bits per byte with the nibble lookup (Mula's
// vpshufb popcount). The byte counts grow by at most 8 a step, so 31 steps fit in a byte before
// vpsadbw folds them into 64-bit lane totals.

#include "ctmq/engine/binary_conv.h"
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

}  // namespace

void binary_conv_row_avx2(const BinaryConvGeometry& g, const uint64_t* weights, RowTaps& row_taps,
                          const uint64_t* input, int64_t oy, int32_t* dots) {
  static_assert(kLanes == 16, "the kernel holds 16 lanes in four registers");
  const int64_t block_words = g.window_words() * kLanes;
  const int64_t blocks = (g.out_channels + kLanes - 1) / kLanes;
  const int64_t out_w = g.out_w();
  const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2,
                                         1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low_nibbles = _mm256_set1_epi8(0x0f);
  const __m256i zero = _mm256_setzero_si256();
  for (int64_t ox = 0; ox < out_w; ++ox) {
    const PixelTaps taps = row_taps.at(input, oy, ox);
    const int64_t total = taps.valid_taps * g.channels;
    int32_t* out = dots + ox * g.out_channels;
    for (int64_t b = 0; b < blocks; ++b) {
      const uint64_t* block = weights + b * block_words;
      __m256i sum0 = zero, sum1 = zero, sum2 = zero, sum3 = zero;
      for (int64_t j = 0; j < taps.count;) {
        const int64_t end = std::min(taps.count, j + kStepsPerByteCount);
        __m256i c0 = zero, c1 = zero, c2 = zero, c3 = zero;
        for (; j < end; ++j) {
          const __m256i a =
              _mm256_set1_epi64x(static_cast<long long>(taps.input[taps.input_offsets[j]]));
          const __m256i* w = reinterpret_cast<const __m256i*>(block + taps.weight_offsets[j]);
          c0 = _mm256_add_epi8(
              c0, popcount_bytes(_mm256_xor_si256(a, _mm256_loadu_si256(w)), table, low_nibbles));
          c1 = _mm256_add_epi8(c1, popcount_bytes(_mm256_xor_si256(a, _mm256_loadu_si256(w + 1)),
                                                  table, low_nibbles));
          c2 = _mm256_add_epi8(c2, popcount_bytes(_mm256_xor_si256(a, _mm256_loadu_si256(w + 2)),
                                                  table, low_nibbles));
          c3 = _mm256_add_epi8(c3, popcount_bytes(_mm256_xor_si256(a, _mm256_loadu_si256(w + 3)),
                                                  table, low_nibbles));
        }
        sum0 = _mm256_add_epi64(sum0, _mm256_sad_epu8(c0, zero));
        sum1 = _mm256_add_epi64(sum1, _mm256_sad_epu8(c1, zero));
        sum2 = _mm256_add_epi64(sum2, _mm256_sad_epu8(c2, zero));
        sum3 = _mm256_add_epi64(sum3, _mm256_sad_epu8(c3, zero));
      }
      // The counts fit in 32 bits: take the low halves of the 64-bit lanes, in lane order.
      const __m256i low_halves = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
      __m256i counts_lo =
          _mm256_permute2x128_si256(_mm256_permutevar8x32_epi32(sum0, low_halves),
                                    _mm256_permutevar8x32_epi32(sum1, low_halves), 0x20);
      __m256i counts_hi =
          _mm256_permute2x128_si256(_mm256_permutevar8x32_epi32(sum2, low_halves),
                                    _mm256_permutevar8x32_epi32(sum3, low_halves), 0x20);
      if (taps.correction != nullptr) {
        const __m256i* correction = reinterpret_cast<const __m256i*>(taps.correction + b * kLanes);
        counts_lo = _mm256_sub_epi32(counts_lo, _mm256_loadu_si256(correction));
        counts_hi = _mm256_sub_epi32(counts_hi, _mm256_loadu_si256(correction + 1));
      }
      // dot = total - 2 * mismatches
      const __m256i totals = _mm256_set1_epi32(static_cast<int>(total));
      alignas(32) int32_t lane_dots[kLanes];
      _mm256_store_si256(reinterpret_cast<__m256i*>(lane_dots),
                         _mm256_sub_epi32(totals, _mm256_add_epi32(counts_lo, counts_lo)));
      _mm256_store_si256(reinterpret_cast<__m256i*>(lane_dots + 8),
                         _mm256_sub_epi32(totals, _mm256_add_epi32(counts_hi, counts_hi)));
      const int64_t lanes = std::min(kLanes, g.out_channels - b * kLanes);
      if (lanes == kLanes) {
        std::copy(lane_dots, lane_dots + kLanes, out + b * kLanes);
      } else {
        for (int64_t lane = 0; lane < lanes; ++lane) out[b * kLanes + lane] = lane_dots[lane];
      }
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

#endif

void float_conv1x1_rows_avx2(const float* x, int64_t pixels, int64_t in_channels,
                             const float* weights, int64_t out_channels, const float* alpha,
                             const float* beta, float* out) {
  float_conv1x1_rows_impl(x, pixels, in_channels, weights, out_channels, alpha, beta, out);
}

}  // namespace ctmq::engine::detail
