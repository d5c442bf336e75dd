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
// At most 32 channels several horizontal taps share a word (tap-packed, below); a border
// column's word then holds 0 bits for its taps outside the image, and the mismatches those add
// (the -1 weights there, counted at load time) are subtracted again, so the sum stays exact.

#include <cstdint>
#include <memory>
#include <vector>

#include "ctmq/engine/kernel_isa.h"

namespace ctmq::engine {

struct ChannelAffine;

/// 64-bit words holding `channels` sign bits.
inline int64_t words_for(int64_t channels) {
  return (channels + 63) / 64;
}

/// Output channels one kernel step computes together; packed weights are padded to a multiple.
constexpr int64_t kLanes = 16;

/// Where output channel `lane` (0 to kLanes - 1) of a lane block sits in the packed weights.
/// The AVX2 kernel counts 4 channels per register in 64-bit lanes and merges two registers'
/// counts into one of eight 32-bit dots with a shift and an OR, with no lane-crossing
/// shuffles; that merge interleaves the registers, so register 0 holds channels 0, 2, 4, 6,
/// register 1 channels 1, 3, 5, 7, and registers 2 and 3 the same for channels 8 to 15.
constexpr int64_t lane_slot(int64_t lane) {
  return lane / 8 * 8 + lane % 2 * 4 + lane % 8 / 2;
}

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

  /// Horizontal kernel taps that share one 64-bit word of the kernel's input: 64 / channels
  /// where that is 2 or more (at most 32 channels) and the kernel is wider than 1, else 1.
  int64_t taps_per_word() const {
    if (kernel < 2 || channels > 32) return 1;
    return 64 / channels < kernel ? 64 / channels : kernel;
  }
  /// Whether the kernel reads tap-packed windows (pack_tap_windows) instead of pixel words.
  bool tap_packed() const { return taps_per_word() > 1; }
  /// Tap-packed: the words covering one kernel row, ceil(kernel / taps_per_word()).
  int64_t row_words() const { return (kernel + taps_per_word() - 1) / taps_per_word(); }
  /// The words one output pixel reads at most: kernel * row_words() tap-packed, else
  /// kernel * kernel * words().
  int64_t window_words() const {
    return tap_packed() ? kernel * row_words() : kernel * kernel * words();
  }
  /// The 64-bit words of one image of the kernel's input: in_h * out_w * row_words() tap-packed
  /// (the windows), else in_h * in_w * words() (the packed signs themselves).
  int64_t input_words() const {
    return tap_packed() ? in_h * out_w() * row_words() : in_h * in_w * words();
  }
};

/// Weight signs packed for the kernels: [ceil(O / kLanes)][window_words()][kLanes] (output
/// channel o of a block in slot lane_slot(o % kLanes)), a window
/// word being [kernel][kernel][words] (one tap's channels per word) or, tap-packed,
/// [kernel][row_words()] (taps_per_word() taps of one kernel row per word, tap j of a word in
/// bits [j * channels, (j + 1) * channels)).
struct PackedBinaryWeights {
  BinaryConvGeometry geometry;
  std::vector<uint64_t> bits;
  /// [kernel * kernel][out_channels]: the -1 weights of each tap, over the channels. A
  /// tap-packed window word holds 0 bits for a tap outside the image, which the XOR counts as
  /// a mismatch wherever the weight is -1: the kernels subtract these counts again.
  std::vector<int32_t> tap_minus_ones;
};

/// Packs the signs of `weights` (O x C x K x K floats, PyTorch's OIHW order; < 0 is -1).
PackedBinaryWeights pack_binary_weights(const BinaryConvGeometry& geometry, const float* weights);

/// Tap-packed geometries (BinaryConvGeometry::tap_packed()): the kernel's input rows
/// [iy_begin, iy_end) of one image, built from its packed signs `image` ([in_h][in_w], one
/// word a pixel). Window word (iy, ox, r) holds the taps kx = r * taps_per_word() + j of kernel
/// row iy at output column ox, i.e. the signs of pixel (iy, ox * stride - pad + kx) shifted by
/// j * channels, and 0 where that pixel lies outside the image. out is the image's
/// [in_h][out_w][row_words()] words.
void pack_tap_windows(const BinaryConvGeometry& g, const uint64_t* image, int64_t iy_begin,
                      int64_t iy_end, uint64_t* out);

namespace detail {
class RowTaps;
}

/// A binary convolution at one input size, run row by row by one thread: the tap lists are
/// built once here, not per row (the border pixels' lists are written into its own scratch,
/// so each thread needs its own).
class BinaryConvRows {
 public:
  /// `weights` must outlive this; `in_h` and `in_w` are the input's size.
  BinaryConvRows(KernelIsa isa, const PackedBinaryWeights& weights, int64_t in_h, int64_t in_w);
  ~BinaryConvRows();
  BinaryConvRows(const BinaryConvRows&) = delete;
  BinaryConvRows& operator=(const BinaryConvRows&) = delete;

  /// The geometry, with this input size.
  const BinaryConvGeometry& geometry() const { return g_; }

  /// Integer dot products of output row `oy` of one image: dots[ox * out_channels + o].
  /// `input` is that image's kernel input (geometry().input_words() words): its packed signs,
  /// [in_h][in_w][words], or, tap-packed, its windows from pack_tap_windows.
  void run(const uint64_t* input, int64_t oy, int32_t* dots);

 private:
  KernelIsa isa_;
  BinaryConvGeometry g_;
  const PackedBinaryWeights* weights_;
  std::unique_ptr<detail::RowTaps> taps_;
};

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

/// A float convolution of few input channels (a network's stem), square kernel, equal strides
/// and padding.
struct FloatConvGeometry {
  int64_t in_h = 0;
  int64_t in_w = 0;
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t pad = 0;

  int64_t out_h() const { return (in_h + 2 * pad - kernel) / stride + 1; }
  int64_t out_w() const { return (in_w + 2 * pad - kernel) / stride + 1; }
};

/// Whether float_conv_bn_row runs `g` on this ISA: AVX2 (with FMA) and out_channels a multiple
/// of 16. Elsewhere the engine leaves the stem to LibTorch.
bool float_conv_bn_supported(KernelIsa isa, const FloatConvGeometry& g);

/// Output row `oy` of one image of a float convolution followed by its BatchNorm, channels-last:
/// out[ox * out_channels + o] = conv * alpha[o] + beta[o]. `padded` is the image zero-padded
/// and channels-last, [in_h + 2 pad][in_w + 2 pad][in_channels]; `weights` are
/// [kernel][kernel][in_channels][out_channels]. A direct convolution, bound by the FMA units,
/// with the BatchNorm applied as it stores and channels-last output: resnet18's 7x7 stem
/// (118 M multiply-adds) is a third of the binary network's time, and LibTorch's path added a
/// BatchNorm pass and a layout copy over its 3.2 MB output.
void float_conv_bn_row(KernelIsa isa, const FloatConvGeometry& g, const float* padded,
                       const float* weights, const float* alpha, const float* beta, int64_t oy,
                       float* out);

/// Output row `oy` of one image of a convolution computed in double and rounded to float once,
/// channels-last: out[ox * out_channels + o] = float(conv * factor[o] + offset[o]), with
/// `padded` (the float input, converted to double once, so that the kernel broadcasts from
/// memory) and `weights` ([kernel][kernel][in_channels][out_channels]) laid out as for
/// float_conv_bn_row. The float convs of the inference form (models/inference_form.h): the
/// float path computes them in double too, so both round the same exact value to float.
void double_conv_affine_row(KernelIsa isa, const FloatConvGeometry& g, const double* padded,
                            const double* weights, const double* factor, const double* offset,
                            int64_t oy, float* out);

namespace detail {
void double_conv_affine_row_portable(const FloatConvGeometry& g, const double* padded,
                                     const double* weights, const double* factor,
                                     const double* offset, int64_t oy, float* out);
void double_conv_affine_row_avx2(const FloatConvGeometry& g, const double* padded,
                                 const double* weights, const double* factor, const double* offset,
                                 int64_t oy, float* out);
void float_conv_bn_row_avx2(const FloatConvGeometry& g, const float* padded, const float* weights,
                            const float* alpha, const float* beta, int64_t oy, float* out);
void float_conv1x1_rows_portable(const float* x, int64_t pixels, int64_t in_channels,
                                 const float* weights, int64_t out_channels, const float* alpha,
                                 const float* beta, float* out);
void float_conv1x1_rows_avx2(const float* x, int64_t pixels, int64_t in_channels,
                             const float* weights, int64_t out_channels, const float* alpha,
                             const float* beta, float* out);
void binary_conv_row_portable(const BinaryConvGeometry& g, const uint64_t* weights, RowTaps& taps,
                              const uint64_t* input, int64_t oy, int32_t* dots);
void binary_conv_row_avx2(const BinaryConvGeometry& g, const uint64_t* weights, RowTaps& taps,
                          const uint64_t* input, int64_t oy, int32_t* dots);
void affine_rows_avx2(const ChannelAffine& affine, const int32_t* dots, int64_t pixels,
                      const float* residual, float* out, uint64_t* signs);
void threshold_rows_avx2(const int32_t* threshold, const int32_t* direction, int64_t channels,
                         const int32_t* dots, int64_t pixels, uint64_t* signs);
void pack_signs_portable(const float* x, int64_t pixels, int64_t channels, uint64_t* out);
void pack_signs_avx2(const float* x, int64_t pixels, int64_t channels, uint64_t* out);

/// The words one output pixel reads: `count` input words at input[input_offsets[j]], each
/// XORed with the lane block's words at weight_offsets[j], over `valid_taps` kernel taps inside
/// the image (pixel words, not tap-packed).
struct PixelTaps {
  int64_t count = 0;
  int64_t valid_taps = 0;
  const uint64_t* input = nullptr;
  const int32_t* input_offsets = nullptr;
  const int32_t* weight_offsets = nullptr;
};

/// The words every pixel of one tap-packed output row reads: `count` window words at
/// input + ox * row_words() + input_offsets[j], over `valid_rows` kernel rows inside the image.
struct PackedRowTaps {
  int64_t count = 0;
  int64_t valid_rows = 0;
  const uint64_t* input = nullptr;
  const int32_t* input_offsets = nullptr;
  const int32_t* weight_offsets = nullptr;
};

/// PixelTaps for every output pixel of a geometry (its in_h and in_w set): interior pixels
/// share one precomputed pattern (offsets relative to the window's corner); border pixels get
/// their words listed one by one. Tap-packed geometries are walked a row at a time
/// (packed_row), with per-column counts and corrections.
class RowTaps {
 public:
  RowTaps(const BinaryConvGeometry& g, const std::vector<int32_t>& tap_minus_ones);
  /// Pixel words (not tap-packed).
  PixelTaps at(const uint64_t* input, int64_t oy, int64_t ox);
  /// Tap-packed: output row oy; valid_columns() and correction() then describe its pixels.
  PackedRowTaps packed_row(const uint64_t* input, int64_t oy);
  /// Kernel columns of output column ox inside the image.
  int64_t valid_columns(int64_t ox) const { return valid_columns_[static_cast<size_t>(ox)]; }
  /// Per output channel (padded to whole lane blocks), the mismatches the 0 bits of column
  /// ox's taps outside the image add over the row's valid kernel rows; null where none are.
  const int32_t* correction(int64_t ox) const {
    const int32_t slot = correction_slot_[static_cast<size_t>(ox)];
    return slot < 0 ? nullptr : corrections_ + slot * padded_channels_;
  }

 private:
  void fill_corrections(int64_t ky_begin, int64_t ky_end, int32_t* out) const;

  BinaryConvGeometry g_;
  const std::vector<int32_t>* tap_minus_ones_;
  std::vector<int32_t> interior_input_;
  std::vector<int32_t> interior_weight_;
  std::vector<int32_t> border_input_;
  std::vector<int32_t> border_weight_;
  // Tap-packed only.
  int64_t padded_channels_ = 0;
  std::vector<int64_t> valid_columns_;
  std::vector<int32_t> correction_slot_;  ///< per output column: its slot, or -1
  std::vector<int64_t> border_columns_;
  std::vector<int32_t> full_row_corrections_;  ///< every kernel row inside the image
  std::vector<int64_t> row_correction_keys_;   ///< the kinds of overhanging rows seen
  std::vector<int32_t> row_corrections_;       ///< their tables, in that order
  const int32_t* corrections_ = nullptr;
};
}  // namespace detail

}  // namespace ctmq::engine
