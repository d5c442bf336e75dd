// Forward values and gradients of the quantization functions against their formulas.

#include <gtest/gtest.h>

#include <torch/torch.h>
#include "quant/distinct_values.h"

#include <cmath>

#include "ctmq/quant/bits.h"
#include "ctmq/quant/functions.h"
#include "support/expect_close.h"

namespace ctmq {
namespace {

using test::distinct;

void expect_close(const torch::Tensor& a, const torch::Tensor& b, double tol = 1e-5) {
  test::expect_close(a, b, tol, tol);
}

TEST(BinarizeWeight, TwoValuesPerChannelScaledByMeanAbs) {
  torch::manual_seed(0);
  torch::Tensor w = torch::randn({4, 3, 3, 3});
  torch::Tensor q = binarize_weight(w);
  for (int64_t c = 0; c < 4; ++c) {
    EXPECT_EQ(distinct(q[c]), 2);
    const float scale = w[c].abs().mean().item<float>();
    expect_close(q[c].abs(), torch::full_like(q[c], scale));
    EXPECT_TRUE(torch::equal(q[c].gt(0), w[c].ge(0)));
  }
}

TEST(BinarizeWeight, ClippedStraightThroughGradient) {
  torch::Tensor w = torch::tensor({{-1.5, -1.0, -0.2, 0.0, 0.7, 1.2}}).requires_grad_();
  torch::Tensor g = torch::tensor({{1.0, 2.0, 3.0, 4.0, 5.0, 6.0}});
  binarize_weight(w).backward(g);
  expect_close(w.grad(), torch::tensor({{0.0, 2.0, 3.0, 4.0, 5.0, 0.0}}));
}

TEST(ApproxSign, SignForwardAndApproxSignGradient) {
  torch::Tensor x =
      torch::tensor({-1.5, -1.0, -0.75, -0.25, 0.0, 0.25, 0.75, 1.0, 1.5}).requires_grad_();
  torch::Tensor y = approx_sign(x);
  expect_close(y, torch::tensor({-1.0, -1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0, 1.0}));
  torch::Tensor g = torch::arange(1, 10, torch::kFloat);
  y.backward(g);
  // 2 + 2x on [-1, 0), 2 - 2x on [0, 1), 0 elsewhere.
  torch::Tensor slope = torch::tensor({0.0, 0.0, 0.5, 1.5, 2.0, 1.5, 0.5, 0.0, 0.0});
  expect_close(x.grad(), slope * g);
}

TEST(Pact, UnsignedValuesAndGradients) {
  torch::manual_seed(1);
  const int bits = 2;
  const double a = 1.5;
  torch::Tensor x = (torch::randn({200}) * 2).requires_grad_();
  torch::Tensor alpha = torch::full({1}, a).requires_grad_();
  torch::Tensor q = pact_quantize(x, alpha, bits, false);
  EXPECT_LE(distinct(q), 4);
  const double n = 3;
  torch::Tensor expected = torch::round(x.detach().clamp(0, a) * (n / a)) * (a / n);
  expect_close(q, expected);
  torch::Tensor g = torch::rand({200});
  q.backward(g);
  torch::Tensor xd = x.detach();
  expect_close(x.grad(), g * (xd.ge(0) & xd.le(a)).to(torch::kFloat));
  expect_close(alpha.grad(), (g * xd.gt(a).to(torch::kFloat)).sum().reshape({1}));
}

TEST(Pact, SignedValuesAndGradients) {
  torch::manual_seed(2);
  const int bits = 3;
  const double a = 1.0;
  torch::Tensor x = (torch::randn({300}) * 1.5).requires_grad_();
  torch::Tensor alpha = torch::full({1}, a).requires_grad_();
  torch::Tensor q = pact_quantize(x, alpha, bits, true);
  EXPECT_LE(distinct(q), 8);
  EXPECT_NEAR(q.min().item<float>(), -a, 1e-6);
  EXPECT_NEAR(q.max().item<float>(), a, 1e-6);
  const double step = 2 * a / 7;
  torch::Tensor expected = torch::round((x.detach().clamp(-a, a) + a) / step) * step - a;
  expect_close(q, expected);
  torch::Tensor g = torch::rand({300});
  q.backward(g);
  torch::Tensor xd = x.detach();
  expect_close(x.grad(), g * (xd.ge(-a) & xd.le(a)).to(torch::kFloat));
  torch::Tensor ga =
      (g * xd.gt(a).to(torch::kFloat)).sum() - (g * xd.lt(-a).to(torch::kFloat)).sum();
  expect_close(alpha.grad(), ga.reshape({1}), 1e-4);
}

// LSQ's step gradient, eq. 3 of Esser et al. times the gradient scale.
torch::Tensor lsq_step_grad(const torch::Tensor& x, const torch::Tensor& s, int64_t qmin,
                            int64_t qmax, const torch::Tensor& g) {
  // "inside" is decided on round(x/s): the clamp follows the rounding.
  torch::Tensor v = x / s;
  torch::Tensor r = torch::round(v);
  torch::Tensor inside = r - v;
  torch::Tensor d =
      torch::where(r.lt(static_cast<double>(qmin)), torch::full_like(v, static_cast<double>(qmin)),
                   torch::where(r.gt(static_cast<double>(qmax)),
                                torch::full_like(v, static_cast<double>(qmax)), inside));
  return g * d;
}

TEST(Lsq, PerTensorValuesAndGradients) {
  torch::manual_seed(3);
  const int bits = 3;
  const int64_t qmin = -signed_qn(bits), qmax = signed_qp(bits);
  torch::Tensor x = (torch::randn({100}) * 0.6).requires_grad_();
  torch::Tensor s = torch::full({1}, 0.2).requires_grad_();
  const double grad_scale = 1.0 / std::sqrt(100.0 * qmax);
  torch::Tensor q = lsq_quantize(x, s, qmin, qmax, grad_scale);
  EXPECT_LE(distinct(q), 8);
  torch::Tensor xd = x.detach();
  expect_close(q, torch::round(xd / 0.2).clamp(qmin, qmax) * 0.2);
  torch::Tensor g = torch::rand({100});
  q.backward(g);
  torch::Tensor r = torch::round(xd / 0.2);
  expect_close(x.grad(), g * (r.ge(qmin) & r.le(qmax)).to(torch::kFloat));
  torch::Tensor expected =
      lsq_step_grad(xd, torch::full({1}, 0.2), qmin, qmax, g).sum() * grad_scale;
  expect_close(s.grad(), expected.reshape({1}), 1e-4);
}

TEST(Lsq, PerChannelStepGradients) {
  torch::manual_seed(4);
  const int bits = 2;
  const int64_t qmin = -signed_qn(bits), qmax = signed_qp(bits);
  torch::Tensor x = torch::randn({3, 5}).requires_grad_();
  torch::Tensor steps = torch::tensor({0.3, 0.5, 0.8});
  torch::Tensor s = steps.clone().requires_grad_();
  torch::Tensor q = lsq_quantize(x, s, qmin, qmax, 0.5);
  for (int64_t c = 0; c < 3; ++c) EXPECT_LE(distinct(q[c]), 4);
  torch::Tensor g = torch::rand({3, 5});
  q.backward(g);
  torch::Tensor expected =
      lsq_step_grad(x.detach(), steps.reshape({3, 1}), qmin, qmax, g).sum(1) * 0.5;
  expect_close(s.grad(), expected, 1e-4);
}

TEST(DoReFa, UniformLevelsInUnitInterval) {
  torch::manual_seed(5);
  torch::Tensor w = torch::randn({8, 4, 3, 3});
  for (int bits : {2, 3, 4, 8}) {
    torch::Tensor q = dorefa_weight(w, bits);
    EXPECT_LE(distinct(q), int64_t{1} << bits) << bits;
    EXPECT_NEAR(q.abs().max().item<float>(), 1.0, 1e-6);
    const double levels = static_cast<double>(unsigned_qmax(bits));
    torch::Tensor codes = (q + 1) * (levels / 2);
    expect_close(codes, torch::round(codes), 1e-3);
  }
}

TEST(DoReFa, StraightThroughTheRounding) {
  torch::Tensor w = torch::tensor({-0.5, 0.1, 0.3}).requires_grad_();
  dorefa_weight(w, 4).sum().backward();
  torch::Tensor v = torch::tensor({-0.5, 0.1, 0.3}).requires_grad_();
  torch::Tensor t = torch::tanh(v);
  (2 * (t / (2 * t.abs().max()) + 0.5) - 1).sum().backward();
  expect_close(w.grad(), v.grad());
}

}  // namespace
}  // namespace ctmq

namespace ctmq {
namespace {

// The fused CPU loops (contiguous float input) against the ATen path (the same function on a
// non-contiguous view): equal values and gradients on a tensor large enough to be split across
// threads and vector lanes, with values exactly on rounding ties and beyond the clip range.
struct FusedVsAten {
  torch::Tensor values, grad_x, grad_alpha;
};

template <typename Quantize>
FusedVsAten run_quantizer(const torch::Tensor& input, const torch::Tensor& upstream,
                          bool contiguous, Quantize quantize) {
  // [n, m] stored transposed: the same values, not contiguous unless copied.
  torch::Tensor x = input.t().contiguous().t();
  if (contiguous) x = x.contiguous();
  x = x.detach().requires_grad_();
  torch::Tensor alpha = torch::full({1}, 1.25).requires_grad_();
  torch::Tensor q = quantize(x, alpha);
  q.backward(upstream);
  return {q.detach(), x.grad(), alpha.grad().defined() ? alpha.grad() : torch::zeros({1})};
}

torch::Tensor tricky_inputs() {
  torch::manual_seed(7);
  torch::Tensor x = torch::randn({300, 700}) * 1.5;
  // Exact ties of the 3-bit signed grid of [-1.25, 1.25] (step 2.5/7) and values past the clip.
  const double step = 2.5 / 7;
  x[0] = torch::arange(-12, 12)
             .to(torch::kFloat)
             .mul(step / 2)
             .sub(1.25)
             .repeat({30})
             .slice(0, 0, 700);
  x[1].fill_(1.25);
  x[2].fill_(-3.0);
  return x;
}

TEST(FusedKernels, PactMatchesAtenPathSignedAndUnsigned) {
  torch::Tensor x = tricky_inputs();
  torch::Tensor g = torch::randn(x.sizes());
  for (bool is_signed : {false, true}) {
    for (int bits : {2, 3, 4}) {
      auto quantize = [&](const torch::Tensor& in, const torch::Tensor& alpha) {
        return pact_quantize(in, alpha, bits, is_signed);
      };
      FusedVsAten fused = run_quantizer(x, g, true, quantize);
      FusedVsAten aten = run_quantizer(x, g, false, quantize);
      EXPECT_TRUE(torch::equal(fused.values, aten.values)) << "bits " << bits;
      EXPECT_TRUE(torch::equal(fused.grad_x, aten.grad_x)) << "bits " << bits;
      EXPECT_NEAR(fused.grad_alpha.item<double>(), aten.grad_alpha.item<double>(),
                  1e-4 * (1 + std::abs(aten.grad_alpha.item<double>())));
    }
  }
}

TEST(FusedKernels, ApproxSignMatchesAtenPath) {
  torch::Tensor x = tricky_inputs();
  torch::Tensor g = torch::randn(x.sizes());
  auto quantize = [](const torch::Tensor& in, const torch::Tensor&) { return approx_sign(in); };
  FusedVsAten fused = run_quantizer(x, g, true, quantize);
  FusedVsAten aten = run_quantizer(x, g, false, quantize);
  EXPECT_TRUE(torch::equal(fused.values, aten.values));
  expect_close(fused.grad_x, aten.grad_x, 1e-6);
}

}  // namespace
}  // namespace ctmq
