// The per-channel epilogue: thresholds give exactly the sign of the affine map for every dot
// product a layer can produce, and the affine rows add the residual and pack signs, with the
// float path's operations (LibTorch's mul, then add) to the bit.

#include "ctmq/engine/epilogue.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "ctmq/engine/binary_conv.h"

namespace ctmq::test {
namespace {

std::vector<engine::KernelIsa> epilogue_isas() {
  std::vector<engine::KernelIsa> isas = {engine::KernelIsa::kPortable};
  if (engine::cpu_has_avx2()) isas.push_back(engine::KernelIsa::kAvx2);
  return isas;
}

engine::ChannelAffine random_affine(int64_t channels) {
  engine::ChannelAffine affine;
  for (int64_t c = 0; c < channels; ++c) {
    // Both signs of the factor, and an exactly-zero one (a constant channel).
    affine.factor.push_back(c == 3 ? 0.f : torch::randn({}).item<float>() * 0.1f);
    affine.offset.push_back(torch::randn({}).item<float>() * 3.f);
  }
  affine.offset[1] = 0.f;            // the boundary falls exactly on dot 0: sign(0) = +1
  affine.factor[5] = std::nanf("");  // NaN gives -1, as training's sign()
  return affine;
}

TEST(ChannelThreshold, EqualsSignOfTheAffineValueForEveryDot) {
  torch::manual_seed(3);
  const int64_t channels = 70;
  const int32_t max_dot = 3 * 3 * 70;
  const engine::ChannelAffine affine = random_affine(channels);
  const engine::ChannelThreshold thresholds = engine::threshold_of(affine, max_dot);
  const int64_t pixels = 2 * max_dot + 1;  // one pixel per dot value
  std::vector<int32_t> dots(static_cast<size_t>(pixels * channels));
  for (int64_t p = 0; p < pixels; ++p) {
    for (int64_t c = 0; c < channels; ++c) {
      dots[static_cast<size_t>(p * channels + c)] = static_cast<int32_t>(p - max_dot);
    }
  }
  const int64_t words = engine::words_for(channels);
  for (engine::KernelIsa isa : epilogue_isas()) {
    std::vector<uint64_t> signs(static_cast<size_t>(pixels * words), ~uint64_t{0});
    engine::threshold_rows(isa, thresholds, dots.data(), pixels, signs.data());
    for (int64_t p = 0; p < pixels; ++p) {
      for (int64_t c = 0; c < 64 * words; ++c) {
        const int32_t dot = static_cast<int32_t>(p - max_dot);
        const bool negative = c < channels && !(affine.value(c, dot) >= 0.f);
        const bool bit = (signs[static_cast<size_t>(p * words + c / 64)] >> (c % 64)) & 1;
        ASSERT_EQ(bit, negative) << engine::kernel_isa_name(isa) << " channel " << c << " dot "
                                 << dot;
      }
    }
  }
}

/// Runs affine_rows on every ISA and checks each value and sign against the float path's: its
/// inference form computes conv * factor, then + offset, then + residual, as three LibTorch
/// operations, and takes sign() of the result (x >= 0 gives +1, NaN -1).
void expect_affine_rows(const engine::ChannelAffine& affine, const torch::Tensor& dots,
                        const torch::Tensor* residual) {
  const int64_t pixels = dots.size(0), channels = dots.size(1);
  const int64_t words = engine::words_for(channels);
  const torch::Tensor factor = torch::tensor(affine.factor);
  const torch::Tensor offset = torch::tensor(affine.offset);
  torch::Tensor expected = dots.to(torch::kFloat).mul(factor).add(offset);
  if (residual != nullptr) expected = expected.add(*residual);
  torch::Tensor out = torch::empty({pixels, channels});
  for (engine::KernelIsa isa : epilogue_isas()) {
    std::vector<uint64_t> signs(static_cast<size_t>(pixels * words), ~uint64_t{0});
    engine::affine_rows(isa, affine, dots.data_ptr<int32_t>(), pixels,
                        residual != nullptr ? residual->data_ptr<float>() : nullptr,
                        out.data_ptr<float>(), signs.data());
    // Bit-equal on every ISA: the same float operations, no fused multiply-add.
    EXPECT_TRUE(torch::equal(out.isnan(), expected.isnan())) << engine::kernel_isa_name(isa);
    EXPECT_TRUE(torch::equal(out.nan_to_num(0), expected.nan_to_num(0)))
        << engine::kernel_isa_name(isa);
    for (int64_t p = 0; p < pixels; ++p) {
      for (int64_t c = 0; c < 64 * words; ++c) {
        const bool bit = (signs[static_cast<size_t>(p * words + c / 64)] >> (c % 64)) & 1;
        if (c >= channels) {
          EXPECT_FALSE(bit) << "padding bit " << c;
          continue;
        }
        const float value = expected[p][c].item<float>();
        ASSERT_EQ(bit, !(value >= 0.f)) << engine::kernel_isa_name(isa) << " pixel " << p
                                        << " channel " << c << " value " << value;
      }
    }
  }
}

TEST(ChannelAffine, RowsAddTheResidualAndPackTheSigns) {
  torch::manual_seed(4);
  const int64_t channels = 67, pixels = 5;
  const engine::ChannelAffine affine = random_affine(channels);
  const torch::Tensor dots = torch::randint(-300, 300, {pixels, channels}, torch::kInt);
  const torch::Tensor residual = torch::randn({pixels, channels});
  expect_affine_rows(affine, dots, &residual);
  expect_affine_rows(affine, dots, nullptr);
}

TEST(ChannelAffine, SignsNearZeroAreTheFloatPathsOwn) {
  // Residuals that cancel the affine value to float precision: there the sign hangs on each
  // operation's rounding, and must still be the one the float path's operations give. A NaN
  // residual gives -1, as training's sign().
  torch::manual_seed(5);
  const int64_t channels = 37, pixels = 300;
  const engine::ChannelAffine affine = random_affine(channels);
  const torch::Tensor dots = torch::randint(-300, 300, {pixels, channels}, torch::kInt);
  torch::Tensor residual = torch::empty({pixels, channels});
  int64_t zeros = 0;
  for (int64_t p = 0; p < pixels; ++p) {
    for (int64_t c = 0; c < channels; ++c) {
      const float value = affine.value(c, dots[p][c].item<int32_t>());
      // Below, at and above -value: the sum is a tiny negative, 0 or a tiny positive.
      const float r = -value;
      const float toward = p % 3 == 0 ? r : std::nextafter(r, p % 3 == 1 ? -INFINITY : INFINITY);
      residual[p][c] = toward;
      zeros += p % 3 == 0 && !std::isnan(value);
    }
  }
  residual[7][6] = std::nanf("");
  ASSERT_GT(zeros, 0);
  expect_affine_rows(affine, dots, &residual);
}

}  // namespace
}  // namespace ctmq::test
