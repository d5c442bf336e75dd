#pragma once
// Binary (W1A1) convolution as XNOR-popcount over bit-packed signs. Torch-free: the kernels
// compile in seconds and are tested against a float reference (tests/engine).
//
// Bits: a set bit is -1, a clear bit is +1, as training's sign() maps x >= 0 to +1 and
// anything else (negative, NaN) to -1. Activations are packed channels-last: one image is
// [height][width][words] 64-bit words, channel c in bit c % 64 of word c / 64; the bits past
// the last channel are clear in activations and weights alike, so they never count.
//
// Padding: training pads the binarized input with 0, which is neither +1 nor -1, so a padded
// tap adds nothing to the float dot product. The kernels do the same: they visit only the taps
// that fall inside the image, and an output's dot product is
//   dot = valid_taps * channels - 2 * popcount(input XOR weight over the valid taps),
// which equals the float sum of (+-1) * (+-1) over the valid taps exactly. Binary engines that
// pad with +1 or -1 and correct afterwards compute the same; visiting fewer taps is cheaper.

#include <cstdint>
#include <vector>

namespace ctmq::engine {

/// 64-bit words holding `channels` sign bits.
inline int64_t words_for(int64_t channels) {
  return (channels + 63) / 64;
}

/// Output channels one kernel step computes together; packed weights are padded to a multiple.
constexpr int64_t kLanes = 16;

/// The shape of one binary convolution (square kernel, equal strides and padding).
struct BinaryConvGeometry {
  int64_t in_h = 0;
  int64_t in_w = 0;
  int64_t channels = 0;
  int64_t out_channels = 0;
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t pad = 0;

  int64_t words() const { return words_for(channels); }
  int64_t out_h() const { return (in_h + 2 * pad - kernel) / stride + 1; }
  int64_t out_w() const { return (in_w + 2 * pad - kernel) / stride + 1; }
  int64_t out_words() const { return words_for(out_channels); }
};

/// Weight signs packed for the kernels: [ceil(O / kLanes)][kernel * kernel][words][kLanes].
struct PackedBinaryWeights {
  BinaryConvGeometry geometry;
  std::vector<uint64_t> bits;
};

/// Packs the signs of `weights` (O x C x K x K floats, PyTorch's OIHW order; < 0 is -1).
PackedBinaryWeights pack_binary_weights(const BinaryConvGeometry& geometry, const float* weights);

/// The instruction sets a kernel can use.
enum class KernelIsa { kPortable, kAvx2 };

/// Whether this CPU runs the AVX2 kernels (AVX2 and POPCNT, checked at run time).
bool cpu_has_avx2();

/// The fastest kernel this CPU runs; CTMQ_ENGINE_ISA=portable forces the portable one.
KernelIsa best_kernel_isa();

/// "avx2" or "portable".
const char* kernel_isa_name(KernelIsa isa);

/// Integer dot products of output row `oy` of one image: dots[ox * out_channels + o], for the
/// geometry `g` (its in_h and in_w those of this input) and packed weight bits `weights`.
/// `image` is that image's packed input, [in_h][in_w][words].
void binary_conv_row(KernelIsa isa, const BinaryConvGeometry& g, const uint64_t* weights,
                     const uint64_t* image, int64_t oy, int32_t* dots);

/// Packs the signs of `pixels` rows of `channels` floats (channels-last) into
/// out[pixel * words_for(channels) + word].
void pack_signs(KernelIsa isa, const float* x, int64_t pixels, int64_t channels, uint64_t* out);

/// out[p, o] = (sum_c x[p, c] * weights[c, o]) * alpha[o] + beta[o] for `pixels` rows of
/// channels-last floats: a 1x1 convolution of a real-valued input followed by its BatchNorm
/// (Bi-Real's downsample, whose 1-bit weights meet a float input). LibTorch 1.13 from Debian
/// runs such small convolutions through its generic BLAS at about 1 GMAC/s.
void float_conv1x1_rows(KernelIsa isa, const float* x, int64_t pixels, int64_t in_channels,
                        const float* weights, int64_t out_channels, const float* alpha,
                        const float* beta, float* out);

namespace detail {
void float_conv1x1_rows_portable(const float* x, int64_t pixels, int64_t in_channels,
                                 const float* weights, int64_t out_channels, const float* alpha,
                                 const float* beta, float* out);
void float_conv1x1_rows_avx2(const float* x, int64_t pixels, int64_t in_channels,
                             const float* weights, int64_t out_channels, const float* alpha,
                             const float* beta, float* out);
void binary_conv_row_portable(const BinaryConvGeometry& g, const uint64_t* weights,
                              const uint64_t* image, int64_t oy, int32_t* dots);
void binary_conv_row_avx2(const BinaryConvGeometry& g, const uint64_t* weights,
                          const uint64_t* image, int64_t oy, int32_t* dots);
void pack_signs_portable(const float* x, int64_t pixels, int64_t channels, uint64_t* out);
void pack_signs_avx2(const float* x, int64_t pixels, int64_t channels, uint64_t* out);

/// The words one output pixel reads: `count` input words at image[input_offsets[j]], each
/// XORed with the lane block's words at weight_offsets[j], over `valid_taps` kernel taps inside
/// the image.
struct PixelTaps {
  int64_t count = 0;
  int64_t valid_taps = 0;
  const uint64_t* image = nullptr;
  const int32_t* input_offsets = nullptr;
  const int32_t* weight_offsets = nullptr;
};

/// PixelTaps for every output pixel of a geometry: interior pixels share one precomputed
/// pattern (all k * k taps, offsets relative to the window's corner); border pixels get their
/// valid taps listed one by one.
class RowTaps {
 public:
  explicit RowTaps(const BinaryConvGeometry& g);
  PixelTaps at(const uint64_t* image, int64_t oy, int64_t ox);

 private:
  BinaryConvGeometry g_;
  std::vector<int32_t> interior_input_;
  std::vector<int32_t> interior_weight_;
  std::vector<int32_t> border_input_;
  std::vector<int32_t> border_weight_;
};
}  // namespace detail

}  // namespace ctmq::engine
