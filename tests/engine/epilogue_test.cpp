// The per-channel epilogue: thresholds give exactly the sign of the affine map for every dot
// product a layer can produce, and the affine rows add the residual and pack signs.

#include "ctmq/engine/epilogue.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

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
    affine.scale.push_back(torch::rand({}).item<float>() * 0.1f);
    // Both signs of alpha, and an exactly-zero alpha (a constant channel).
    affine.alpha.push_back(c == 3 ? 0.f : torch::randn({}).item<float>());
    affine.beta.push_back(torch::randn({}).item<float>() * 3.f);
  }
  affine.beta[1] = 0.f;  // the boundary falls exactly on dot 0: sign(0) = +1
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
        const bool negative = c < channels && !(affine.value(c, dot) >= 0.0);
        const bool bit = (signs[static_cast<size_t>(p * words + c / 64)] >> (c % 64)) & 1;
        ASSERT_EQ(bit, negative) << engine::kernel_isa_name(isa) << " channel " << c << " dot "
                                 << dot;
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
  torch::Tensor out = torch::empty({pixels, channels});
  const int64_t words = engine::words_for(channels);
  for (engine::KernelIsa isa : epilogue_isas()) {
    for (const bool with_residual : {true, false}) {
      std::vector<uint64_t> signs(static_cast<size_t>(pixels * words), ~uint64_t{0});
      engine::affine_rows(isa, affine, dots.data_ptr<int32_t>(), pixels,
                          with_residual ? residual.data_ptr<float>() : nullptr,
                          out.data_ptr<float>(), signs.data());
      for (int64_t p = 0; p < pixels; ++p) {
        for (int64_t c = 0; c < 64 * words; ++c) {
          const bool bit = (signs[static_cast<size_t>(p * words + c / 64)] >> (c % 64)) & 1;
          if (c >= channels) {
            ASSERT_FALSE(bit) << "padding bit " << c;
            continue;
          }
          double want = affine.value(c, dots[p][c].item<int32_t>());
          if (with_residual) want = want + static_cast<double>(residual[p][c].item<float>());
          // Bit-equal on every ISA: the same double operations, no fused multiply-add; the
          // sign is the double sum's.
          ASSERT_EQ(out[p][c].item<float>(), static_cast<float>(want))
              << engine::kernel_isa_name(isa);
          ASSERT_EQ(bit, !(want >= 0.0)) << engine::kernel_isa_name(isa);
        }
      }
    }
  }
}

}  // namespace
}  // namespace ctmq::test
