#include "ctmq/engine/binary_conv.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace ctmq::engine {

PackedBinaryWeights pack_binary_weights(const BinaryConvGeometry& geometry, const float* weights) {
  const BinaryConvGeometry& g = geometry;
  const int64_t taps = g.kernel * g.kernel;
  const int64_t window = g.window_words();
  const int64_t blocks = (g.out_channels + kLanes - 1) / kLanes;
  const int64_t per_word = g.taps_per_word();
  PackedBinaryWeights packed;
  packed.geometry = g;
  packed.bits.assign(static_cast<size_t>(blocks * window * kLanes), 0);
  packed.tap_minus_ones.assign(static_cast<size_t>(taps * g.out_channels), 0);
  for (int64_t o = 0; o < g.out_channels; ++o) {
    uint64_t* block = packed.bits.data() + (o / kLanes) * window * kLanes;
    for (int64_t c = 0; c < g.channels; ++c) {
      for (int64_t t = 0; t < taps; ++t) {
        const float w = weights[(o * g.channels + c) * taps + t];
        if (w >= 0.f) continue;
        ++packed.tap_minus_ones[static_cast<size_t>(t * g.out_channels + o)];
        int64_t word, bit;
        if (g.tap_packed()) {
          const int64_t ky = t / g.kernel, kx = t % g.kernel;
          word = ky * g.row_words() + kx / per_word;
          bit = (kx % per_word) * g.channels + c;
        } else {
          word = t * g.words() + c / 64;
          bit = c % 64;
        }
        block[word * kLanes + lane_slot(o % kLanes)] |= uint64_t{1} << bit;
      }
    }
  }
  return packed;
}

void pack_tap_windows(const BinaryConvGeometry& g, const uint64_t* image, int64_t iy_begin,
                      int64_t iy_end, uint64_t* out) {
  const int64_t out_w = g.out_w();
  const int64_t row_words = g.row_words();
  const int64_t per_word = g.taps_per_word();
  const int64_t k = g.kernel, c = g.channels;
  for (int64_t iy = iy_begin; iy < iy_end; ++iy) {
    const uint64_t* row = image + iy * g.in_w;
    uint64_t* windows = out + iy * out_w * row_words;
    for (int64_t ox = 0; ox < out_w; ++ox) {
      const int64_t ix0 = ox * g.stride - g.pad;
      uint64_t* window = windows + ox * row_words;
      if (k == 3 && per_word == 3 && ix0 >= 0 && ix0 + 3 <= g.in_w) {  // resnets' interior
        window[0] = row[ix0] | row[ix0 + 1] << c | row[ix0 + 2] << (2 * c);
        continue;
      }
      for (int64_t r = 0; r < row_words; ++r) {
        uint64_t word = 0;
        for (int64_t j = 0; j < per_word; ++j) {
          const int64_t kx = r * per_word + j;
          const int64_t ix = ix0 + kx;
          if (kx < k && ix >= 0 && ix < g.in_w) word |= row[ix] << (j * c);
        }
        window[r] = word;
      }
    }
  }
}

BinaryConvRows::BinaryConvRows(KernelIsa isa, const PackedBinaryWeights& weights, int64_t in_h,
                               int64_t in_w)
    : isa_(isa), g_(weights.geometry), weights_(&weights) {
  g_.in_h = in_h;
  g_.in_w = in_w;
  taps_ = std::make_unique<detail::RowTaps>(g_, weights.tap_minus_ones);
}

BinaryConvRows::~BinaryConvRows() = default;

void BinaryConvRows::run(const uint64_t* input, int64_t oy, int32_t* dots) {
  if (isa_ == KernelIsa::kAvx2) {
    detail::binary_conv_row_avx2(g_, weights_->bits.data(), *taps_, input, oy, dots);
  } else {
    detail::binary_conv_row_portable(g_, weights_->bits.data(), *taps_, input, oy, dots);
  }
}

bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") &&
         __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

KernelIsa best_kernel_isa() {
  const char* forced = std::getenv("CTMQ_ENGINE_ISA");
  if (forced != nullptr && std::strcmp(forced, "portable") == 0) return KernelIsa::kPortable;
  return cpu_has_avx2() ? KernelIsa::kAvx2 : KernelIsa::kPortable;
}

const char* kernel_isa_name(KernelIsa isa) {
  return isa == KernelIsa::kAvx2 ? "avx2" : "portable";
}

void pack_signs(KernelIsa isa, const float* x, int64_t pixels, int64_t channels, uint64_t* out) {
  if (isa == KernelIsa::kAvx2) {
    detail::pack_signs_avx2(x, pixels, channels, out);
  } else {
    detail::pack_signs_portable(x, pixels, channels, out);
  }
}

void float_conv1x1_rows(KernelIsa isa, const float* x, int64_t pixels, int64_t in_channels,
                        const float* weights, int64_t out_channels, const float* alpha,
                        const float* beta, float* out) {
  if (isa == KernelIsa::kAvx2) {
    detail::float_conv1x1_rows_avx2(x, pixels, in_channels, weights, out_channels, alpha, beta,
                                    out);
  } else {
    detail::float_conv1x1_rows_portable(x, pixels, in_channels, weights, out_channels, alpha, beta,
                                        out);
  }
}

bool float_conv_bn_supported(KernelIsa isa, const FloatConvGeometry& g) {
  return isa == KernelIsa::kAvx2 && g.out_channels % 16 == 0 && g.out_channels > 0;
}

void float_conv_bn_row(KernelIsa isa, const FloatConvGeometry& g, const float* padded,
                       const float* weights, const float* alpha, const float* beta, int64_t oy,
                       float* out) {
  if (!float_conv_bn_supported(isa, g)) {
    throw std::invalid_argument("float_conv_bn_row: no kernel for this ISA and shape");
  }
  detail::float_conv_bn_row_avx2(g, padded, weights, alpha, beta, oy, out);
}

void double_conv_affine_row(KernelIsa isa, const FloatConvGeometry& g, const double* padded,
                            const double* weights, const double* factor, const double* offset,
                            int64_t oy, float* out) {
  if (isa == KernelIsa::kAvx2) {
    detail::double_conv_affine_row_avx2(g, padded, weights, factor, offset, oy, out);
  } else {
    detail::double_conv_affine_row_portable(g, padded, weights, factor, offset, oy, out);
  }
}

namespace detail {

RowTaps::RowTaps(const BinaryConvGeometry& g, const std::vector<int32_t>& tap_minus_ones)
    : g_(g), tap_minus_ones_(&tap_minus_ones) {
  const int64_t max_words = g.window_words();
  border_input_.resize(static_cast<size_t>(max_words));
  border_weight_.resize(static_cast<size_t>(max_words));
  if (g.tap_packed()) {
    // Window words of consecutive input rows at one output column are out_w * row_words apart.
    const int64_t row_words = g.row_words();
    for (int64_t ky = 0; ky < g.kernel; ++ky) {
      for (int64_t r = 0; r < row_words; ++r) {
        interior_input_.push_back(static_cast<int32_t>(ky * g.out_w() * row_words + r));
        interior_weight_.push_back(static_cast<int32_t>((ky * row_words + r) * kLanes));
      }
    }
    padded_channels_ = (g.out_channels + kLanes - 1) / kLanes * kLanes;
    for (int64_t ox = 0; ox < g.out_w(); ++ox) {
      const int64_t ix0 = ox * g.stride - g.pad;
      const int64_t kx_begin = std::max<int64_t>(0, -ix0);
      const int64_t kx_end = std::min(g.kernel, g.in_w - ix0);
      valid_columns_.push_back(std::max<int64_t>(0, kx_end - kx_begin));
      if (valid_columns_.back() == g.kernel) {
        correction_slot_.push_back(-1);
      } else {
        correction_slot_.push_back(static_cast<int32_t>(border_columns_.size()));
        border_columns_.push_back(ox);
      }
    }
    const size_t table = border_columns_.size() * static_cast<size_t>(padded_channels_);
    full_row_corrections_.assign(table, 0);
    fill_corrections(0, g.kernel, full_row_corrections_.data());
    return;
  }
  const int64_t words = g.words();
  for (int64_t ky = 0; ky < g.kernel; ++ky) {
    for (int64_t kx = 0; kx < g.kernel; ++kx) {
      for (int64_t w = 0; w < words; ++w) {
        interior_input_.push_back(static_cast<int32_t>((ky * g.in_w + kx) * words + w));
        interior_weight_.push_back(
            static_cast<int32_t>(((ky * g.kernel + kx) * words + w) * kLanes));
      }
    }
  }
}

// A tap-packed border column's window words hold 0 bits for its taps outside the image, and
// the XOR counts each -1 weight there as a mismatch: these are the counts to take off again,
// over kernel rows [ky_begin, ky_end).
void RowTaps::fill_corrections(int64_t ky_begin, int64_t ky_end, int32_t* out) const {
  const BinaryConvGeometry& g = g_;
  const int32_t* minus_ones = tap_minus_ones_->data();
  const int64_t channels = g.out_channels;
  for (size_t slot = 0; slot < border_columns_.size(); ++slot) {
    const int64_t ix0 = border_columns_[slot] * g.stride - g.pad;
    int32_t* column = out + static_cast<int64_t>(slot) * padded_channels_;
    std::fill(column, column + channels, 0);
    for (int64_t ky = ky_begin; ky < ky_end; ++ky) {
      for (int64_t kx = 0; kx < g.kernel; ++kx) {
        const int64_t ix = ix0 + kx;
        if (ix >= 0 && ix < g.in_w) continue;
        const int32_t* tap = minus_ones + (ky * g.kernel + kx) * channels;
        for (int64_t o = 0; o < channels; ++o) column[o] += tap[o];
      }
    }
  }
}

PixelTaps RowTaps::at(const uint64_t* input, int64_t oy, int64_t ox) {
  const BinaryConvGeometry& g = g_;
  const int64_t words = g.words();
  const int64_t iy0 = oy * g.stride - g.pad;
  const int64_t ix0 = ox * g.stride - g.pad;
  PixelTaps taps;
  if (iy0 >= 0 && ix0 >= 0 && iy0 + g.kernel <= g.in_h && ix0 + g.kernel <= g.in_w) {
    taps.count = static_cast<int64_t>(interior_input_.size());
    taps.valid_taps = g.kernel * g.kernel;
    taps.input = input + (iy0 * g.in_w + ix0) * words;
    taps.input_offsets = interior_input_.data();
    taps.weight_offsets = interior_weight_.data();
    return taps;
  }
  taps.input = input;
  taps.input_offsets = border_input_.data();
  taps.weight_offsets = border_weight_.data();
  for (int64_t ky = 0; ky < g.kernel; ++ky) {
    const int64_t iy = iy0 + ky;
    if (iy < 0 || iy >= g.in_h) continue;
    for (int64_t kx = 0; kx < g.kernel; ++kx) {
      const int64_t ix = ix0 + kx;
      if (ix < 0 || ix >= g.in_w) continue;
      ++taps.valid_taps;
      for (int64_t w = 0; w < words; ++w) {
        border_input_[static_cast<size_t>(taps.count)] =
            static_cast<int32_t>((iy * g.in_w + ix) * words + w);
        border_weight_[static_cast<size_t>(taps.count)] =
            static_cast<int32_t>(((ky * g.kernel + kx) * words + w) * kLanes);
        ++taps.count;
      }
    }
  }
  return taps;
}

PackedRowTaps RowTaps::packed_row(const uint64_t* input, int64_t oy) {
  const BinaryConvGeometry& g = g_;
  const int64_t row_words = g.row_words();
  const int64_t out_w = g.out_w();
  const int64_t iy0 = oy * g.stride - g.pad;
  PackedRowTaps row;
  if (iy0 >= 0 && iy0 + g.kernel <= g.in_h) {
    row.count = static_cast<int64_t>(interior_input_.size());
    row.valid_rows = g.kernel;
    row.input = input + iy0 * out_w * row_words;
    row.input_offsets = interior_input_.data();
    row.weight_offsets = interior_weight_.data();
    corrections_ = full_row_corrections_.data();
    return row;
  }
  row.input = input;
  row.input_offsets = border_input_.data();
  row.weight_offsets = border_weight_.data();
  const int64_t ky_begin = std::max<int64_t>(0, -iy0);
  const int64_t ky_end = std::max(ky_begin, std::min(g.kernel, g.in_h - iy0));
  for (int64_t ky = ky_begin; ky < ky_end; ++ky) {
    for (int64_t r = 0; r < row_words; ++r) {
      border_input_[static_cast<size_t>(row.count)] =
          static_cast<int32_t>((iy0 + ky) * out_w * row_words + r);
      border_weight_[static_cast<size_t>(row.count)] =
          static_cast<int32_t>((ky * row_words + r) * kLanes);
      ++row.count;
    }
  }
  row.valid_rows = ky_end - ky_begin;
  // Rows that overhang the image come in a few kinds (the top rows, the bottom rows): each
  // kind's corrections are computed once.
  const int64_t key = ky_begin * (g.kernel + 1) + ky_end;
  auto cached = std::find(row_correction_keys_.begin(), row_correction_keys_.end(), key);
  const size_t table = border_columns_.size() * static_cast<size_t>(padded_channels_);
  if (cached == row_correction_keys_.end()) {
    row_correction_keys_.push_back(key);
    row_corrections_.resize(row_correction_keys_.size() * table);
    cached = row_correction_keys_.end() - 1;
    fill_corrections(ky_begin, ky_end, row_corrections_.data() + (row_corrections_.size() - table));
  }
  corrections_ = row_corrections_.data() + (cached - row_correction_keys_.begin()) * table;
  return row;
}

}  // namespace detail
}  // namespace ctmq::engine
