// Weight and activation quantizer modules: level counts, encodings, and the bit-change rule.

#include <gtest/gtest.h>

#include <torch/torch.h>
#include "quant/distinct_values.h"

#include <cmath>

#include "ctmq/core/errors.h"
#include "ctmq/quant/activation_quantizer.h"
#include "ctmq/quant/bits.h"
#include "ctmq/quant/weight_quantizer.h"
#include "support/choice.h"

namespace ctmq {
namespace {

using test::distinct;

WeightQuantizer weight_quantizer(const std::string& family, const std::string& granularity,
                                 int64_t channels) {
  WeightQuantizerOptions options;
  options.method = test::choice<WeightMethod>(family);
  options.granularity = test::choice<Granularity>(granularity);
  options.out_channels = channels;
  return WeightQuantizer(options);
}

ActivationQuantizer activation_quantizer(const std::string& family, bool is_signed) {
  ActivationQuantizerOptions options;
  options.method = test::choice<ActivationMethod>(family);
  options.is_signed = is_signed;
  return ActivationQuantizer(options);
}

TEST(WeightQuantizer, AtMostTwoToTheBitsValuesPerScaleGroup) {
  torch::manual_seed(0);
  torch::Tensor w = torch::randn({6, 8, 3, 3}) * 0.1;
  for (const auto& [family, granularity] : std::vector<std::pair<std::string, std::string>>{
           {"dorefa", "layer"}, {"lsq", "layer"}, {"lsq", "channel"}}) {
    auto q = weight_quantizer(family, granularity, 6);
    for (int bits : {1, 2, 3, 4, 8}) {
      q->set_bits(bits);
      torch::Tensor out = q->forward(w);
      const int64_t limit = int64_t{1} << bits;
      if (bits == 1 || granularity == "channel") {
        for (int64_t c = 0; c < 6; ++c) EXPECT_LE(distinct(out[c]), limit) << family << bits;
      } else {
        EXPECT_LE(distinct(out), limit) << family << bits;
      }
      if (bits == 1) {
        EXPECT_EQ(distinct(out[0]), 2);
      }
    }
    q->set_bits(32);
    EXPECT_TRUE(torch::equal(q->forward(w), w));
  }
}

TEST(WeightQuantizer, EncodingDecodesToTheQuantizedWeight) {
  torch::manual_seed(1);
  torch::Tensor w = torch::randn({5, 4, 3, 3}) * 0.2;
  for (const std::string family : {"dorefa", "lsq"}) {
    auto q = weight_quantizer(family, "channel", 5);
    for (int bits : {1, 2, 4, 8, 12}) {
      q->set_bits(bits);
      torch::Tensor expected = q->forward(w).detach();
      EncodedWeight e = q->encode(w);
      EXPECT_GE(e.codes.min().item<int64_t>(), bits == 1 ? -1 : -signed_qn(bits));
      EXPECT_LE(e.codes.max().item<int64_t>(), bits == 1 ? 1 : signed_qp(bits));
      EXPECT_TRUE(torch::allclose(decode_weight(e), expected, 1e-5, 1e-6)) << family << bits;
    }
  }
}

TEST(WeightQuantizer, LsqStepInitialisedFromWeightsThenRescaledOnBitChange) {
  torch::manual_seed(2);
  torch::Tensor w = torch::randn({3, 2, 3, 3});
  auto q = weight_quantizer("lsq", "channel", 3);
  const auto state = q->named_parameters();
  torch::Tensor step = state["step"];
  q->set_bits(4);
  q->forward(w);
  torch::Tensor init = w.abs().reshape({3, -1}).mean(1) * (2.0 / std::sqrt(7.0));
  EXPECT_TRUE(torch::allclose(step, init));
  EXPECT_EQ(q->named_buffers()["calibrated_bits"].item<int64_t>(), 4);

  q->set_bits(3);  // Qp 7 -> 3: the clipping range step * Qp is kept
  q->forward(w);
  EXPECT_TRUE(torch::allclose(step * 3, init * 7));
  q->set_bits(2);
  q->forward(w);
  EXPECT_TRUE(torch::allclose(step * 1, init * 7));
  q->set_bits(1);  // binary and float leave the step alone
  q->forward(w);
  q->set_bits(32);
  q->forward(w);
  EXPECT_TRUE(torch::allclose(step, init * 7));
  EXPECT_EQ(q->named_buffers()["calibrated_bits"].item<int64_t>(), 2);
  q->set_bits(4);  // the next cycle starts from the range of the last quantized depth
  q->forward(w);
  EXPECT_TRUE(torch::allclose(step, init));
}

TEST(WeightQuantizer, DepthOutsideTheRangeIsASpecError) {
  auto q = weight_quantizer("dorefa", "layer", 1);
  EXPECT_THROW(q->set_bits(17), SpecError);
  EXPECT_THROW(q->set_bits(0), SpecError);
}

TEST(ActivationQuantizer, ReducedPrecisionInputsAreQuantizedInFloat32) {
  // What CUDA autocast hands a quantizer: fp16 or bf16 activations.
  torch::manual_seed(4);
  torch::Tensor x = torch::randn({2, 3, 4, 4}) * 2;
  for (const std::string family : {"pact", "lsq"}) {
    for (auto dtype : {torch::kHalf, torch::kBFloat16}) {
      auto q = activation_quantizer(family, true);
      q->set_bits(3);
      torch::Tensor reduced = x.to(dtype);
      torch::Tensor expected = q->forward(reduced.to(torch::kFloat));  // calibrates too
      torch::Tensor out = q->forward(reduced);
      EXPECT_EQ(out.scalar_type(), torch::kFloat);
      EXPECT_TRUE(torch::equal(out, expected)) << family;
    }
  }
}

TEST(ActivationQuantizer, AtMostTwoToTheBitsValues) {
  torch::manual_seed(3);
  torch::Tensor x = torch::randn({4, 3, 5, 5}) * 2;
  for (const std::string family : {"pact", "lsq"}) {
    for (bool is_signed : {false, true}) {
      auto q = activation_quantizer(family, is_signed);
      torch::Tensor input = is_signed ? x : torch::relu(x);
      for (int bits : {1, 2, 3, 4, 8}) {
        q->set_bits(bits);
        torch::Tensor out = q->forward(input);
        EXPECT_LE(distinct(out), int64_t{1} << bits) << family << is_signed << bits;
        if (!is_signed && bits > 1) {
          EXPECT_GE(out.min().item<float>(), 0.0f);
        }
      }
      q->set_bits(1);
      EXPECT_TRUE(torch::equal(q->forward(x).abs(), torch::ones_like(x)));
      q->set_bits(32);
      EXPECT_TRUE(torch::equal(q->forward(x), x));
    }
  }
}

TEST(ActivationQuantizer, PactAlphaStartsAtThreeRmsOrAtTheHardtanhRangeWhenSigned) {
  torch::manual_seed(6);
  torch::Tensor x = torch::randn({8, 4, 6, 6}) * 2;
  auto unsigned_q = activation_quantizer("pact", false);
  unsigned_q->set_bits(4);
  unsigned_q->forward(torch::relu(x));
  EXPECT_NEAR(unsigned_q->named_parameters()["alpha"].item<double>(),
              3 * torch::relu(x).square().mean().sqrt().item<double>(), 1e-5);

  // Signed (Bi-Real) inputs are clipped to [-1, 1] by hardtanh in full precision: the first
  // quantized stage keeps that range, whatever the batch.
  auto signed_q = activation_quantizer("pact", true);
  signed_q->set_bits(4);
  const torch::Tensor y = signed_q->forward(x);
  EXPECT_DOUBLE_EQ(signed_q->named_parameters()["alpha"].item<double>(), 1.0);
  EXPECT_LE(y.abs().max().item<double>(), 1.0 + 1e-6);
  // Trained afterwards, alpha is kept at the next depth.
  signed_q->named_parameters()["alpha"].detach().fill_(1.5);
  signed_q->set_bits(3);
  signed_q->forward(x);
  EXPECT_DOUBLE_EQ(signed_q->named_parameters()["alpha"].item<double>(), 1.5);
}

TEST(ActivationQuantizer, LsqInitialisedFromFirstBatchThenRescaled) {
  torch::manual_seed(4);
  torch::Tensor x = torch::relu(torch::randn({8, 4, 6, 6}));
  auto q = activation_quantizer("lsq", false);
  torch::Tensor step = q->named_parameters()["step"];
  q->set_bits(32);
  q->forward(x);
  EXPECT_EQ(q->named_buffers()["calibrated_bits"].item<int64_t>(), 0);
  q->set_bits(4);
  q->forward(x);
  const double init = x.abs().mean().item<double>() * 2 / std::sqrt(15.0);
  EXPECT_NEAR(step.item<double>(), init, 1e-6);
  q->set_bits(3);
  q->forward(x * 100);  // not re-initialised from the data: rescaled by Qp_4 / Qp_3 = 15 / 7
  EXPECT_NEAR(step.item<double>(), init * 15 / 7, 1e-6);

  auto s = activation_quantizer("lsq", true);
  torch::Tensor signed_step = s->named_parameters()["step"];
  s->set_bits(3);
  s->forward(x);
  const double signed_init = x.abs().mean().item<double>() * 2 / std::sqrt(3.0);
  EXPECT_NEAR(signed_step.item<double>(), signed_init, 1e-6);
  s->set_bits(2);  // signed Qp: 3 -> 1
  s->forward(x);
  EXPECT_NEAR(signed_step.item<double>(), signed_init * 3, 1e-6);
}

TEST(ActivationQuantizer, PactAlphaInitialisedOnceAndCarriedOver) {
  torch::manual_seed(5);
  torch::Tensor x = torch::relu(torch::randn({8, 4, 6, 6}));
  auto q = activation_quantizer("pact", false);
  torch::Tensor alpha = q->named_parameters()["alpha"];
  q->set_bits(4);
  q->forward(x);
  const double init = 3 * x.square().mean().sqrt().item<double>();
  EXPECT_NEAR(alpha.item<double>(), init, 1e-5);
  for (int bits : {3, 2, 1, 32, 4}) {
    q->set_bits(bits);
    q->forward(x * 5);
    EXPECT_NEAR(alpha.item<double>(), init, 1e-5) << bits;
  }
}

}  // namespace
}  // namespace ctmq
