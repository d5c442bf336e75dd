// The portable kernels: the reference the AVX2 ones are tested against, and the fallback on
// CPUs without AVX2.

#include "ctmq/engine/binary_conv.h"
#include "ctmq/engine/binary_conv_row_inl.h"
#include "ctmq/engine/double_conv_inl.h"
#include "ctmq/engine/float_conv1x1_inl.h"

#include <algorithm>
#include <vector>

namespace ctmq::engine::detail {
namespace {

inline int popcount64(uint64_t x) {
  return __builtin_popcountll(x);
}

/// The dot products of one pixel with one lane block (binary_conv_avx2.cpp's block_dots).
inline void block_dots(const uint64_t* input, const int32_t* offsets, const uint64_t* block,
                       const int32_t* weight_offsets, int64_t count, int64_t total,
                       const int32_t* correction, int64_t lanes, int32_t* out) {
  int32_t counts[kLanes] = {};
  for (int64_t j = 0; j < count; ++j) {
    const uint64_t a = input[offsets[j]];
    const uint64_t* w = block + weight_offsets[j];
    for (int64_t lane = 0; lane < kLanes; ++lane) {
      counts[lane] += popcount64(a ^ w[lane_slot(lane)]);
    }
  }
  if (correction != nullptr) {
    for (int64_t lane = 0; lane < kLanes; ++lane) counts[lane] -= correction[lane];
  }
  for (int64_t lane = 0; lane < lanes; ++lane) {
    out[lane] = static_cast<int32_t>(total - 2 * counts[lane]);
  }
}

}  // namespace

void binary_conv_row_portable(const BinaryConvGeometry& g, const uint64_t* weights,
                              RowTaps& row_taps, const uint64_t* input, int64_t oy, int32_t* dots) {
  binary_conv_row_impl(
      g, weights, row_taps, input, oy, dots, [](auto... args) { block_dots(args...); },
      [](const uint64_t* in, int64_t next, const int32_t* offsets, const uint64_t* block,
         const int32_t* weight_offsets, int64_t count, int64_t total, int64_t lanes, int32_t* out,
         int64_t next_out) {
        block_dots(in, offsets, block, weight_offsets, count, total, nullptr, lanes, out);
        block_dots(in + next, offsets, block, weight_offsets, count, total, nullptr, lanes,
                   out + next_out);
      });
}

void pack_signs_portable(const float* x, int64_t pixels, int64_t channels, uint64_t* out) {
  const int64_t words = words_for(channels);
  for (int64_t p = 0; p < pixels; ++p) {
    const float* row = x + p * channels;
    uint64_t* packed = out + p * words;
    for (int64_t w = 0; w < words; ++w) {
      uint64_t bits = 0;
      const int64_t end = std::min<int64_t>(64, channels - w * 64);
      for (int64_t c = 0; c < end; ++c) {
        bits |= static_cast<uint64_t>(!(row[w * 64 + c] >= 0.f)) << c;
      }
      packed[w] = bits;
    }
  }
}

void float_conv1x1_rows_portable(const float* x, int64_t pixels, int64_t in_channels,
                                 const float* weights, int64_t out_channels, const float* alpha,
                                 const float* beta, float* out) {
  float_conv1x1_rows_impl(x, pixels, in_channels, weights, out_channels, alpha, beta, out);
}

void double_conv_affine_row_portable(const FloatConvGeometry& g, const double* padded,
                                     const double* weights, const double* factor,
                                     const double* offset, int64_t oy, float* out) {
  double_conv_affine_row_impl(g, padded, weights, factor, offset, oy, out);
}

}  // namespace ctmq::engine::detail
