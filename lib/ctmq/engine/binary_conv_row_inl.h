#pragma once
// The walk of one output row shared by the portable and the AVX2 binary convolution: every
// pixel against every lane block of kLanes output channels, through the kernel file's own
// `block_dots(input, input_offsets, block, weight_offsets, count, total, correction, lanes,
// out)` and, tap-packed, `pair_dots(input, next, input_offsets, block, weight_offsets, count,
// total, lanes, out, next_out)` for two pixels of one row that need no correction (the second's
// input and output at input + next and out + next_out). Internal linkage: each kernel file
// keeps its own copy, compiled for its instruction set.

#include <algorithm>
#include <cstdint>

#include "ctmq/engine/binary_conv.h"

namespace ctmq::engine::detail {
namespace {

template <typename BlockDots, typename PairDots>
inline void binary_conv_row_impl(const BinaryConvGeometry& g, const uint64_t* weights,
                                 RowTaps& row_taps, const uint64_t* input, int64_t oy,
                                 int32_t* dots, const BlockDots& block_dots,
                                 const PairDots& pair_dots) {
  const int64_t block_words = g.window_words() * kLanes;
  const int64_t blocks = (g.out_channels + kLanes - 1) / kLanes;
  const int64_t out_w = g.out_w();
  auto lanes_of = [&](int64_t b) { return std::min(kLanes, g.out_channels - b * kLanes); };
  if (g.tap_packed()) {
    const PackedRowTaps row = row_taps.packed_row(input, oy);
    const int64_t row_words = g.row_words();
    for (int64_t ox = 0; ox < out_w; ++ox) {
      const int64_t total = row.valid_rows * row_taps.valid_columns(ox) * g.channels;
      const int32_t* correction = row_taps.correction(ox);
      // Interior columns two at a time: two independent chains through the kernel's registers.
      if (correction == nullptr && ox + 1 < out_w && row_taps.correction(ox + 1) == nullptr) {
        for (int64_t b = 0; b < blocks; ++b) {
          pair_dots(row.input + ox * row_words, row_words, row.input_offsets,
                    weights + b * block_words, row.weight_offsets, row.count, total, lanes_of(b),
                    dots + ox * g.out_channels + b * kLanes, g.out_channels);
        }
        ++ox;
        continue;
      }
      for (int64_t b = 0; b < blocks; ++b) {
        block_dots(row.input + ox * row_words, row.input_offsets, weights + b * block_words,
                   row.weight_offsets, row.count, total,
                   correction != nullptr ? correction + b * kLanes : nullptr, lanes_of(b),
                   dots + ox * g.out_channels + b * kLanes);
      }
    }
    return;
  }
  for (int64_t ox = 0; ox < out_w; ++ox) {
    const PixelTaps taps = row_taps.at(input, oy, ox);
    const int64_t total = taps.valid_taps * g.channels;
    for (int64_t b = 0; b < blocks; ++b) {
      block_dots(taps.input, taps.input_offsets, weights + b * block_words, taps.weight_offsets,
                 taps.count, total, nullptr, lanes_of(b), dots + ox * g.out_channels + b * kLanes);
    }
  }
}

}  // namespace
}  // namespace ctmq::engine::detail
