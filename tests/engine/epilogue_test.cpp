// The per-channel epilogue: thresholds give exactly the sign of the affine map for every dot
// product a layer can produce, and the affine rows add the residual and pack signs.

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

engine::ChannelAffine random_affine(int64_t channels, int32_t max_abs_dot) {
  engine::ChannelAffine affine;
  for (int64_t c = 0; c < channels; ++c) {
    affine.scale.push_back(torch::rand({}).item<float>() * 0.1f);
    // Both signs of alpha, and an exactly-zero alpha (a constant channel).
    affine.alpha.push_back(c == 3 ? 0.f : torch::randn({}).item<float>());
    affine.beta.push_back(torch::randn({}).item<float>() * 3.f);
  }
  affine.beta[1] = 0.f;  // the boundary falls exactly on dot 0: sign(0) = +1
  affine.derive_float_terms(max_abs_dot);
  return affine;
}

TEST(ChannelThreshold, EqualsSignOfTheAffineValueForEveryDot) {
  torch::manual_seed(3);
  const int64_t channels = 70;
  const int32_t max_dot = 3 * 3 * 70;
  const engine::ChannelAffine affine = random_affine(channels, max_dot);
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
        const bool negative = c < channels && !(affine.value(c, dot) >= 0.0);
        const bool bit = (signs[static_cast<size_t>(p * words + c / 64)] >> (c % 64)) & 1;
        ASSERT_EQ(bit, negative) << engine::kernel_isa_name(isa) << " channel " << c << " dot "
                                 << dot;
      }
    }
  }
}

/// Runs affine_rows on every ISA and checks each value against the float formula, bit for
/// bit, and each sign against the double sum's (the exact sign), whatever the float value's.
/// Returns how many signs differ from the float value's own.
int64_t expect_affine_rows(const engine::ChannelAffine& affine, const torch::Tensor& dots,
                           const torch::Tensor* residual) {
  int64_t float_sign_differs = 0;
  const int64_t pixels = dots.size(0), channels = dots.size(1);
  const int64_t words = engine::words_for(channels);
  torch::Tensor out = torch::empty({pixels, channels});
  for (engine::KernelIsa isa : epilogue_isas()) {
    std::vector<uint64_t> signs(static_cast<size_t>(pixels * words), ~uint64_t{0});
    engine::affine_rows(isa, affine, dots.data_ptr<int32_t>(), pixels,
                        residual != nullptr ? residual->data_ptr<float>() : nullptr,
                        out.data_ptr<float>(), signs.data());
    for (int64_t p = 0; p < pixels; ++p) {
      for (int64_t c = 0; c < 64 * words; ++c) {
        const bool bit = (signs[static_cast<size_t>(p * words + c / 64)] >> (c % 64)) & 1;
        if (c >= channels) {
          EXPECT_FALSE(bit) << "padding bit " << c;
          continue;
        }
        const int32_t dot = dots[p][c].item<int32_t>();
        const size_t k = static_cast<size_t>(c);
        float value = static_cast<float>(dot) * affine.factor[k];
        value = value + affine.offset[k];
        double exact = affine.value(c, dot);
        if (residual != nullptr) {
          const float r = (*residual)[p][c].item<float>();
          value = value + r;
          exact = exact + static_cast<double>(r);
        }
        // Bit-equal on every ISA: the same float operations, no fused multiply-add.
        const float got = out[p][c].item<float>();
        if (std::isnan(value)) {
          EXPECT_TRUE(std::isnan(got)) << engine::kernel_isa_name(isa);
        } else {
          EXPECT_EQ(got, value) << engine::kernel_isa_name(isa);
        }
        EXPECT_EQ(bit, !(exact >= 0.0))
            << engine::kernel_isa_name(isa) << " pixel " << p << " channel " << c << " float "
            << value << " double " << exact;
        if (bit != !(value >= 0.f)) ++float_sign_differs;
      }
    }
  }
  return float_sign_differs;
}

TEST(ChannelAffine, RowsAddTheResidualAndPackTheSigns) {
  torch::manual_seed(4);
  const int64_t channels = 67, pixels = 5;
  const engine::ChannelAffine affine = random_affine(channels, 300);
  const torch::Tensor dots = torch::randint(-300, 300, {pixels, channels}, torch::kInt);
  const torch::Tensor residual = torch::randn({pixels, channels});
  expect_affine_rows(affine, dots, &residual);
  expect_affine_rows(affine, dots, nullptr);
}

TEST(ChannelAffine, SignsNearZeroAreTheDoubleSums) {
  // Residuals that cancel the affine value to float precision: the sums are at or below
  // float's round-off, where the float value's sign is a coin toss, and the sign must still
  // be the double sum's. A NaN residual gives -1, as training's sign().
  torch::manual_seed(5);
  const int64_t channels = 37, pixels = 300;
  const engine::ChannelAffine affine = random_affine(channels, 300);
  const torch::Tensor dots = torch::randint(-300, 300, {pixels, channels}, torch::kInt);
  torch::Tensor residual = torch::empty({pixels, channels});
  for (int64_t p = 0; p < pixels; ++p) {
    for (int64_t c = 0; c < channels; ++c) {
      const double value = affine.value(c, dots[p][c].item<int32_t>());
      // Below, at and above the float nearest to -value.
      const float r = static_cast<float>(-value);
      const float toward = p % 3 == 0 ? r : std::nextafter(r, p % 3 == 1 ? -INFINITY : INFINITY);
      residual[p][c] = toward;
    }
  }
  residual[7][5] = std::nanf("");
  // The case this is for: signs the float value alone would get wrong.
  EXPECT_GT(expect_affine_rows(affine, dots, &residual), 0);
}

}  // namespace
}  // namespace ctmq::test
