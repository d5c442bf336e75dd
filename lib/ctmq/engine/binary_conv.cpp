#include "ctmq/engine/binary_conv.h"

#include <cstdlib>
#include <cstring>

namespace ctmq::engine {

PackedBinaryWeights pack_binary_weights(const BinaryConvGeometry& geometry, const float* weights) {
  const BinaryConvGeometry& g = geometry;
  const int64_t taps = g.kernel * g.kernel;
  const int64_t words = g.words();
  const int64_t blocks = (g.out_channels + kLanes - 1) / kLanes;
  PackedBinaryWeights packed;
  packed.geometry = g;
  packed.bits.assign(static_cast<size_t>(blocks * taps * words * kLanes), 0);
  for (int64_t o = 0; o < g.out_channels; ++o) {
    uint64_t* block = packed.bits.data() + (o / kLanes) * taps * words * kLanes;
    for (int64_t c = 0; c < g.channels; ++c) {
      for (int64_t t = 0; t < taps; ++t) {
        const float w = weights[(o * g.channels + c) * taps + t];
        if (!(w >= 0.f)) {
          block[(t * words + c / 64) * kLanes + o % kLanes] |= uint64_t{1} << (c % 64);
        }
      }
    }
  }
  return packed;
}

bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
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

void binary_conv_row(KernelIsa isa, const BinaryConvGeometry& g, const uint64_t* weights,
                     const uint64_t* image, int64_t oy, int32_t* dots) {
  if (isa == KernelIsa::kAvx2) {
    detail::binary_conv_row_avx2(g, weights, image, oy, dots);
  } else {
    detail::binary_conv_row_portable(g, weights, image, oy, dots);
  }
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

namespace detail {

RowTaps::RowTaps(const BinaryConvGeometry& g) : g_(g) {
  const int64_t words = g.words();
  const size_t max_words = static_cast<size_t>(g.kernel * g.kernel * words);
  border_input_.resize(max_words);
  border_weight_.resize(max_words);
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

PixelTaps RowTaps::at(const uint64_t* image, int64_t oy, int64_t ox) {
  const BinaryConvGeometry& g = g_;
  const int64_t words = g.words();
  const int64_t iy0 = oy * g.stride - g.pad;
  const int64_t ix0 = ox * g.stride - g.pad;
  PixelTaps taps;
  if (iy0 >= 0 && ix0 >= 0 && iy0 + g.kernel <= g.in_h && ix0 + g.kernel <= g.in_w) {
    taps.count = static_cast<int64_t>(interior_input_.size());
    taps.valid_taps = g.kernel * g.kernel;
    taps.image = image + (iy0 * g.in_w + ix0) * words;
    taps.input_offsets = interior_input_.data();
    taps.weight_offsets = interior_weight_.data();
    return taps;
  }
  taps.image = image;
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

}  // namespace detail
}  // namespace ctmq::engine
