// The XNOR-popcount kernels against LibTorch's float conv2d on +-1 tensors with 0 padding, which
// is what training computes: integer dot products, so every comparison is exact.

#include "ctmq/engine/binary_conv.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <string>
#include <vector>

namespace ctmq::test {
namespace {

using engine::BinaryConvGeometry;
using engine::KernelIsa;

std::vector<KernelIsa> kernel_isas() {
  std::vector<KernelIsa> isas = {KernelIsa::kPortable};
  if (engine::cpu_has_avx2()) isas.push_back(KernelIsa::kAvx2);
  return isas;
}

// +-1 values; sign(x) of training (x >= 0 -> +1).
torch::Tensor random_signs(std::vector<int64_t> shape) {
  return torch::where(torch::randn(shape).ge(0), 1.0f, -1.0f);
}

// Packs a (N, C, H, W) +-1 tensor channels-last with the kernels' own packer.
std::vector<uint64_t> pack_input(KernelIsa isa, const torch::Tensor& x) {
  const torch::Tensor nhwc = x.permute({0, 2, 3, 1}).contiguous();
  const int64_t pixels = x.size(0) * x.size(2) * x.size(3);
  std::vector<uint64_t> packed(static_cast<size_t>(pixels * engine::words_for(x.size(1))));
  engine::pack_signs(isa, nhwc.data_ptr<float>(), pixels, x.size(1), packed.data());
  return packed;
}

// Runs the kernel over every row of every image: (N, H_out, W_out, O) dot products.
torch::Tensor xnor_conv(KernelIsa isa, const torch::Tensor& x, const torch::Tensor& w,
                        int64_t stride, int64_t pad) {
  BinaryConvGeometry g;
  g.in_h = x.size(2);
  g.in_w = x.size(3);
  g.channels = x.size(1);
  g.out_channels = w.size(0);
  g.kernel = w.size(2);
  g.stride = stride;
  g.pad = pad;
  const torch::Tensor wc = w.contiguous();
  const engine::PackedBinaryWeights packed = engine::pack_binary_weights(g, wc.data_ptr<float>());
  const std::vector<uint64_t> signs = pack_input(isa, x);
  const int64_t image_words = g.in_h * g.in_w * g.words();
  // The kernel's input: the packed signs, or their tap-packed windows.
  std::vector<uint64_t> input = signs;
  if (g.tap_packed()) {
    input.assign(static_cast<size_t>(x.size(0) * g.input_words()), ~uint64_t{0});
    for (int64_t n = 0; n < x.size(0); ++n) {
      engine::pack_tap_windows(g, signs.data() + n * image_words, 0, g.in_h,
                               input.data() + n * g.input_words());
    }
  }
  torch::Tensor dots = torch::empty({x.size(0), g.out_h(), g.out_w(), g.out_channels}, torch::kInt);
  engine::BinaryConvRows rows(isa, packed, g.in_h, g.in_w);
  for (int64_t n = 0; n < x.size(0); ++n) {
    for (int64_t oy = 0; oy < g.out_h(); ++oy) {
      rows.run(input.data() + n * g.input_words(), oy, dots[n][oy].data_ptr<int32_t>());
    }
  }
  return dots;
}

struct ConvCase {
  int64_t channels, out_channels, height, width, kernel, stride, pad;
};

std::string case_name(const ConvCase& c) {
  return "C" + std::to_string(c.channels) + "_O" + std::to_string(c.out_channels) + "_" +
         std::to_string(c.height) + "x" + std::to_string(c.width) + "_k" +
         std::to_string(c.kernel) + "s" + std::to_string(c.stride) + "p" + std::to_string(c.pad);
}

// gtest prints parameters in the test list (ctest's names): this shape, not the struct's bytes.
void PrintTo(const ConvCase& c, std::ostream* os) {
  *os << case_name(c);
}

class BinaryConvKernel : public ::testing::TestWithParam<ConvCase> {};

TEST_P(BinaryConvKernel, EqualsFloatConvWithZeroPadding) {
  const ConvCase& c = GetParam();
  torch::manual_seed(static_cast<uint64_t>(c.channels * 1000 + c.out_channels));
  const torch::Tensor x = random_signs({2, c.channels, c.height, c.width});
  const torch::Tensor w = random_signs({c.out_channels, c.channels, c.kernel, c.kernel});
  // Float sums of +-1 below 2^24 are exact, so this is the integer result.
  const torch::Tensor expected =
      torch::conv2d(x, w, {}, {c.stride, c.stride}, {c.pad, c.pad}).permute({0, 2, 3, 1});
  for (KernelIsa isa : kernel_isas()) {
    const torch::Tensor dots = xnor_conv(isa, x, w, c.stride, c.pad);
    ASSERT_EQ(dots.sizes(), expected.sizes()) << engine::kernel_isa_name(isa);
    EXPECT_TRUE(torch::equal(dots.to(torch::kFloat), expected))
        << engine::kernel_isa_name(isa) << ": "
        << (dots.to(torch::kFloat) - expected).abs().max().item<float>() << " largest difference";
  }
}

// Channel counts around the 64-bit word and the 16-lane block; odd sizes; every padding case
// (corners, edges, rows and columns where the kernel overhangs both sides, 1-pixel images).
INSTANTIATE_TEST_SUITE_P(
    Shapes, BinaryConvKernel,
    ::testing::Values(ConvCase{1, 1, 5, 5, 3, 1, 1}, ConvCase{3, 5, 7, 6, 3, 1, 1},
                      ConvCase{63, 17, 6, 7, 3, 1, 1}, ConvCase{64, 16, 5, 5, 3, 1, 1},
                      ConvCase{65, 33, 5, 4, 3, 2, 1}, ConvCase{130, 7, 7, 7, 3, 2, 1},
                      ConvCase{127, 48, 8, 8, 3, 2, 1}, ConvCase{200, 31, 3, 3, 3, 1, 1},
                      ConvCase{70, 9, 1, 1, 3, 1, 1}, ConvCase{70, 9, 2, 1, 3, 2, 1},
                      ConvCase{33, 19, 6, 6, 3, 1, 0}, ConvCase{33, 19, 7, 7, 5, 2, 2},
                      ConvCase{96, 40, 7, 7, 1, 2, 0}, ConvCase{129, 65, 5, 6, 1, 1, 0},
                      ConvCase{17, 3, 4, 4, 3, 1, 2},
                      // Hundreds of steps a pixel: the AVX2 kernel's byte counts are folded
                      // into 64-bit totals every 31 steps, many times over.
                      ConvCase{1900, 5, 3, 3, 3, 1, 1}, ConvCase{700, 17, 5, 5, 5, 2, 2}),
    [](const ::testing::TestParamInfo<ConvCase>& info) { return case_name(info.param); });

// At most 32 channels the kernels read several horizontal taps per word (tap-packed), and a
// border pixel's window words hold 0 bits for the taps outside the image, which the kernels
// correct per output channel: resnet20's shapes, channel counts that do not divide 64 (taps
// per word 2 to 21, kernel rows split over several words), strides 1 and 2, every padding
// case (left, right, both at once, 1-pixel rows and columns, pad 0 and pad past the kernel's
// half), block widths below, at and past 16 lanes, and interior pixels two at a time.
INSTANTIATE_TEST_SUITE_P(
    TapPacked, BinaryConvKernel,
    ::testing::Values(ConvCase{16, 16, 28, 28, 3, 1, 1}, ConvCase{16, 32, 28, 28, 3, 2, 1},
                      ConvCase{32, 32, 14, 14, 3, 1, 1}, ConvCase{32, 64, 14, 14, 3, 2, 1},
                      ConvCase{13, 7, 5, 9, 3, 2, 1}, ConvCase{31, 5, 6, 5, 5, 1, 2},
                      ConvCase{21, 18, 3, 2, 5, 2, 2}, ConvCase{32, 16, 1, 1, 3, 1, 1},
                      ConvCase{24, 17, 4, 7, 7, 1, 3}, ConvCase{16, 16, 5, 5, 3, 1, 0},
                      ConvCase{16, 16, 5, 6, 3, 2, 0}, ConvCase{3, 33, 9, 8, 7, 2, 3},
                      ConvCase{11, 20, 1, 7, 3, 1, 1}, ConvCase{9, 16, 6, 1, 3, 2, 1},
                      ConvCase{29, 3, 5, 5, 3, 1, 3}, ConvCase{16, 8, 4, 4, 1, 1, 0},
                      ConvCase{5, 1, 6, 6, 2, 2, 1},
                      // 45 window words a pixel: more than the 31 steps a byte count holds,
                      // so interior pixels leave the two-pixel path for the general one.
                      ConvCase{32, 20, 12, 12, 9, 1, 4}),
    [](const ::testing::TestParamInfo<ConvCase>& info) { return case_name(info.param); });

TEST(BinaryConvGeometry, PacksTapsOnlyWhereTwoOrMoreFitAWord) {
  BinaryConvGeometry g;
  g.kernel = 3;
  g.channels = 16;
  EXPECT_EQ(g.taps_per_word(), 3);
  EXPECT_EQ(g.window_words(), 3);
  g.channels = 32;
  EXPECT_EQ(g.taps_per_word(), 2);
  EXPECT_EQ(g.row_words(), 2);
  EXPECT_EQ(g.window_words(), 6);
  g.channels = 33;
  EXPECT_FALSE(g.tap_packed());
  EXPECT_EQ(g.window_words(), 9);
  g.channels = 16;
  g.kernel = 1;
  EXPECT_FALSE(g.tap_packed());
}

TEST(PackSigns, SignOfZeroIsPlusOneAndNanMinusOne) {
  // sign() in training: x >= 0 -> +1 (clear bit), anything else -> -1 (set bit).
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> values = {0.f,
                               -0.f,
                               1.f,
                               -1.f,
                               nan,
                               1e-30f,
                               -1e-30f,
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity()};
  std::vector<bool> negative = {false, false, false, true, true, false, true, false, true};
  // Repeat over 75 channels so the vector and tail paths both see each value.
  const int64_t channels = 75;
  std::vector<float> x(static_cast<size_t>(channels * 2));
  for (size_t i = 0; i < x.size(); ++i) x[i] = values[(i * 7) % values.size()];
  for (KernelIsa isa : kernel_isas()) {
    std::vector<uint64_t> packed(4, ~uint64_t{0});
    engine::pack_signs(isa, x.data(), 2, channels, packed.data());
    for (int64_t p = 0; p < 2; ++p) {
      for (int64_t c = 0; c < 128; ++c) {
        const bool bit = (packed[static_cast<size_t>(p * 2 + c / 64)] >> (c % 64)) & 1;
        const bool want =
            c < channels && negative[(static_cast<size_t>(p * channels + c) * 7) % values.size()];
        EXPECT_EQ(bit, want) << engine::kernel_isa_name(isa) << " pixel " << p << " channel " << c;
      }
    }
  }
}

// The direct float stem (conv + BatchNorm, channels-last) against LibTorch's conv2d and the same
// affine map: equal up to float round-off (a different summation order, with FMA).
struct StemCase {
  int64_t in_channels, out_channels, height, width, kernel, stride, pad;
};

engine::FloatConvGeometry geometry_of(const StemCase& c) {
  engine::FloatConvGeometry g;
  g.in_h = c.height;
  g.in_w = c.width;
  g.in_channels = c.in_channels;
  g.out_channels = c.out_channels;
  g.kernel = c.kernel;
  g.stride = c.stride;
  g.pad = c.pad;
  return g;
}

class FloatConvBn : public ::testing::TestWithParam<StemCase> {};

TEST_P(FloatConvBn, EqualsLibTorchUpToRoundOff) {
  const StemCase& c = GetParam();
  const engine::FloatConvGeometry g = geometry_of(c);
  if (!engine::float_conv_bn_supported(KernelIsa::kAvx2, g) || !engine::cpu_has_avx2()) {
    GTEST_SKIP() << "no AVX2";
  }
  torch::manual_seed(static_cast<uint64_t>(c.in_channels * 100 + c.width));
  const torch::Tensor x = torch::randn({2, c.in_channels, c.height, c.width});
  const torch::Tensor w = torch::randn({c.out_channels, c.in_channels, c.kernel, c.kernel});
  const torch::Tensor alpha = torch::randn({c.out_channels});
  const torch::Tensor beta = torch::randn({c.out_channels});
  const torch::Tensor expected =
      (torch::conv2d(x, w, {}, {c.stride, c.stride}, {c.pad, c.pad}) * alpha.view({1, -1, 1, 1}) +
       beta.view({1, -1, 1, 1}))
          .permute({0, 2, 3, 1});
  const torch::Tensor padded =
      torch::constant_pad_nd(x, {c.pad, c.pad, c.pad, c.pad}).permute({0, 2, 3, 1}).contiguous();
  const torch::Tensor weights = w.permute({2, 3, 1, 0}).contiguous();
  torch::Tensor out = torch::full({2, g.out_h(), g.out_w(), c.out_channels}, 1e30f);
  for (int64_t n = 0; n < 2; ++n) {
    for (int64_t oy = 0; oy < g.out_h(); ++oy) {
      engine::float_conv_bn_row(KernelIsa::kAvx2, g, padded[n].data_ptr<float>(),
                                weights.data_ptr<float>(), alpha.data_ptr<float>(),
                                beta.data_ptr<float>(), oy, out[n][oy].data_ptr<float>());
    }
  }
  ASSERT_EQ(out.sizes(), expected.sizes());
  const double scale = expected.abs().max().item<double>();
  EXPECT_LE((out - expected).abs().max().item<double>(), 1e-5 * scale);
}

// resnet18's and resnet20's stems; odd input channel counts; widths that leave a tail after the
// six-pixel blocks; strides 1 and 2; padding 0 to past the kernel's half.
INSTANTIATE_TEST_SUITE_P(Shapes, FloatConvBn,
                         ::testing::Values(StemCase{3, 64, 32, 29, 7, 2, 3},
                                           StemCase{1, 16, 28, 28, 3, 1, 1},
                                           StemCase{5, 32, 9, 13, 3, 2, 1},
                                           StemCase{3, 16, 7, 5, 5, 1, 0},
                                           StemCase{2, 48, 6, 11, 3, 1, 3}),
                         [](const ::testing::TestParamInfo<StemCase>& info) {
                           const StemCase& c = info.param;
                           return "C" + std::to_string(c.in_channels) + "_O" +
                                  std::to_string(c.out_channels) + "_" + std::to_string(c.height) +
                                  "x" + std::to_string(c.width) + "_k" + std::to_string(c.kernel) +
                                  "s" + std::to_string(c.stride) + "p" + std::to_string(c.pad);
                         });

void PrintTo(const StemCase& c, std::ostream* os) {
  *os << c.in_channels << "->" << c.out_channels << " " << c.height << "x" << c.width << " k"
      << c.kernel << "s" << c.stride << "p" << c.pad;
}

// double_conv_affine_row against LibTorch's conv in double, then the affine map in double and
// one rounding to float: the inference form's float convs. Both sum in double, in their own
// orders, to ~1e-16; the float results are equal unless an exact value lies that close to a
// float rounding boundary (about 1e-8 of the values), so the test asks for the same bits, on
// every ISA (the AVX2 blocks, its loop for widths that are not multiples of 8, the portable loop).
class DoubleConvAffine : public ::testing::TestWithParam<StemCase> {};

TEST_P(DoubleConvAffine, EqualsLibTorchInDoubleRoundedOnce) {
  const StemCase& c = GetParam();
  const engine::FloatConvGeometry g = geometry_of(c);
  torch::manual_seed(static_cast<uint64_t>(c.in_channels * 100 + c.width + 7));
  const torch::Tensor x = torch::randn({2, c.in_channels, c.height, c.width});
  const torch::Tensor w =
      torch::randn({c.out_channels, c.in_channels, c.kernel, c.kernel}, torch::kDouble);
  const torch::Tensor factor = torch::randn({c.out_channels}, torch::kDouble);
  const torch::Tensor offset = torch::randn({c.out_channels}, torch::kDouble);
  const torch::Tensor expected =
      torch::conv2d(x.to(torch::kDouble), w, {}, {c.stride, c.stride}, {c.pad, c.pad})
          .mul(factor.view({1, -1, 1, 1}))
          .add(offset.view({1, -1, 1, 1}))
          .to(torch::kFloat)
          .permute({0, 2, 3, 1});
  const torch::Tensor padded = torch::constant_pad_nd(x, {c.pad, c.pad, c.pad, c.pad})
                                   .permute({0, 2, 3, 1})
                                   .to(torch::kDouble)
                                   .contiguous();
  const torch::Tensor weights = w.permute({2, 3, 1, 0}).contiguous();
  std::vector<KernelIsa> isas = {KernelIsa::kPortable};
  if (engine::cpu_has_avx2()) isas.push_back(KernelIsa::kAvx2);
  for (KernelIsa isa : isas) {
    torch::Tensor out = torch::full({2, g.out_h(), g.out_w(), c.out_channels}, 1e30f);
    for (int64_t n = 0; n < 2; ++n) {
      for (int64_t oy = 0; oy < g.out_h(); ++oy) {
        engine::double_conv_affine_row(isa, g, padded[n].data_ptr<double>(),
                                       weights.data_ptr<double>(), factor.data_ptr<double>(),
                                       offset.data_ptr<double>(), oy, out[n][oy].data_ptr<float>());
      }
    }
    ASSERT_EQ(out.sizes(), expected.sizes());
    EXPECT_TRUE(torch::equal(out, expected))
        << engine::kernel_isa_name(isa) << ": largest difference "
        << (out - expected).abs().max().item<double>();
  }
}

// resnet20's stem and Bi-Real downsamples (1x1 at 16 -> 32 and 32 -> 64), resnet18's stem,
// widths that are not multiples of 8, tails after the six-pixel blocks, strides and paddings.
INSTANTIATE_TEST_SUITE_P(
    Shapes, DoubleConvAffine,
    ::testing::Values(StemCase{1, 16, 28, 28, 3, 1, 1}, StemCase{16, 32, 14, 14, 1, 1, 0},
                      StemCase{32, 64, 7, 7, 1, 1, 0}, StemCase{3, 64, 32, 29, 7, 2, 3},
                      StemCase{5, 12, 9, 13, 3, 2, 1}, StemCase{2, 40, 6, 11, 3, 1, 3}),
    [](const ::testing::TestParamInfo<StemCase>& info) {
      const StemCase& c = info.param;
      return "C" + std::to_string(c.in_channels) + "_O" + std::to_string(c.out_channels) + "_" +
             std::to_string(c.height) + "x" + std::to_string(c.width) + "_k" +
             std::to_string(c.kernel) + "s" + std::to_string(c.stride) + "p" +
             std::to_string(c.pad);
    });

TEST(FloatConvBn, OnlyAvx2RunsIt) {
  engine::FloatConvGeometry g;
  g.in_channels = 3;
  g.out_channels = 64;
  EXPECT_FALSE(engine::float_conv_bn_supported(KernelIsa::kPortable, g));
  g.out_channels = 24;  // not whole 16-channel groups
  EXPECT_FALSE(engine::float_conv_bn_supported(KernelIsa::kAvx2, g));
}

}  // namespace
}  // namespace ctmq::test
