#include "ctmq/quant/functions.h"

#include "ctmq/quant/bits.h"
#include "ctmq/quant/cpu_kernels.h"

namespace ctmq {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

std::vector<int64_t> non_channel_dims(const torch::Tensor& w) {
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < w.dim(); ++d) dims.push_back(d);
  return dims;
}

struct BinaryWeightFunction : public torch::autograd::Function<BinaryWeightFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& w) {
    ctx->save_for_backward({w});
    torch::Tensor scale = binary_weight_scale(w);
    return torch::where(w.ge(0), scale, scale.neg());
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    torch::Tensor w = ctx->get_saved_variables()[0];
    return {grads[0].masked_fill(w.abs().gt(1), 0)};
  }
};

struct ApproxSignFunction : public torch::autograd::Function<ApproxSignFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x) {
    ctx->save_for_backward({x});
    if (cpu::fusable(x)) return cpu::sign_forward(x);
    torch::Tensor one = torch::ones({}, x.options());
    return torch::where(x.ge(0), one, one.neg());
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    torch::Tensor x = ctx->get_saved_variables()[0];
    if (cpu::fusable(x) && grads[0].scalar_type() == torch::kFloat) {
      return {cpu::approx_sign_backward(x, grads[0])};
    }
    // 2 - 2|x| on (-1, 1) and 0 outside: max(0, 2 - 2|x|), then the chain rule.
    torch::Tensor slope = x.abs().mul_(-2).add_(2).clamp_min_(0);
    return {slope.mul_(grads[0])};
  }
};

struct PactFunction : public torch::autograd::Function<PactFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& alpha, int64_t bits, bool is_signed) {
    ctx->save_for_backward({x, alpha});
    ctx->saved_data["signed"] = is_signed;
    const int64_t levels = unsigned_qmax(static_cast<int>(bits));
    if (cpu::fusable(x) && alpha.device().is_cpu()) {
      return cpu::pact_forward(x, alpha.item<float>(), levels, is_signed);
    }
    torch::Tensor a = alpha.reshape({1}).to(x.scalar_type());
    torch::Tensor zero_point = torch::zeros({1}, x.options().dtype(torch::kInt));
    if (!is_signed) {
      return torch::fake_quantize_per_tensor_affine(x, a / levels, zero_point, 0, levels);
    }
    // The symmetric grid -alpha + k * 2alpha/(2^b-1) has no integer zero point, so shift by
    // alpha onto the unsigned grid of [0, 2 alpha] and back.
    torch::Tensor shifted = x + a;
    return torch::fake_quantize_per_tensor_affine(shifted, a * (2.0 / levels), zero_point, 0,
                                                  levels)
        .sub_(a);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& alpha = saved[1];
    const bool is_signed = ctx->saved_data["signed"].toBool();
    if (cpu::fusable(x) && alpha.device().is_cpu() && grads[0].scalar_type() == torch::kFloat) {
      auto [grad_x, grad_alpha] = cpu::pact_backward(x, grads[0], alpha.item<float>(), is_signed);
      return {grad_x, torch::full(alpha.sizes(), grad_alpha, alpha.options()), torch::Tensor(),
              torch::Tensor()};
    }
    torch::Tensor a = alpha.reshape({}).to(x.scalar_type());
    const torch::Tensor& g = grads[0];
    torch::Tensor above = x.gt(a);
    torch::Tensor grad_alpha;
    torch::Tensor grad_x;
    if (is_signed) {
      torch::Tensor below = x.lt(a.neg());
      grad_alpha = (g * above).sum() - (g * below).sum();
      grad_x = g.masked_fill(above.logical_or_(below), 0);
    } else {
      grad_alpha = (g * above).sum();
      grad_x = g.masked_fill(above.logical_or_(x.lt(0)), 0);
    }
    return {grad_x, grad_alpha.reshape(alpha.sizes()).to(alpha.scalar_type()), torch::Tensor(),
            torch::Tensor()};
  }
};

struct LsqFunction : public torch::autograd::Function<LsqFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& step, int64_t qmin, int64_t qmax,
                               double grad_scale) {
    ctx->save_for_backward({x, step});
    ctx->saved_data["qmin"] = qmin;
    ctx->saved_data["qmax"] = qmax;
    ctx->saved_data["grad_scale"] = grad_scale;
    torch::Tensor s = step.to(x.scalar_type());
    if (s.numel() == 1) {
      torch::Tensor zero_point = torch::zeros({1}, x.options().dtype(torch::kInt));
      return torch::fake_quantize_per_tensor_affine(x, s.reshape({1}), zero_point, qmin, qmax);
    }
    torch::Tensor zero_point = torch::zeros({s.numel()}, x.options().dtype(torch::kInt));
    return torch::fake_quantize_per_channel_affine(x, s, zero_point, 0, qmin, qmax);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& step = saved[1];
    const auto qmin = static_cast<double>(ctx->saved_data["qmin"].toInt());
    const auto qmax = static_cast<double>(ctx->saved_data["qmax"].toInt());
    const double grad_scale = ctx->saved_data["grad_scale"].toDouble();
    const torch::Tensor& g = grads[0];
    torch::Tensor s = step.to(x.scalar_type());
    if (s.numel() > 1) {
      std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
      shape[0] = s.numel();
      s = s.reshape(shape);
    }
    torch::Tensor v = x / s;
    torch::Tensor r = torch::round(v);
    torch::Tensor inside = r.ge(qmin).logical_and_(r.le(qmax));
    // d q / d s: r - v inside, the clamped code (qmin or qmax) outside.
    torch::Tensor inner = r - v;
    torch::Tensor ds = torch::where(inside, inner, r.clamp_(qmin, qmax)).mul_(g);
    torch::Tensor grad_step =
        step.numel() == 1 ? ds.sum().reshape(step.sizes()) : ds.reshape({step.numel(), -1}).sum(1);
    grad_step.mul_(grad_scale);
    return {g * inside, grad_step.to(step.scalar_type()), torch::Tensor(), torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor binary_weight_scale(const torch::Tensor& w) {
  if (w.dim() < 2) return w.abs().mean();
  return w.abs().mean(non_channel_dims(w), /*keepdim=*/true);
}

torch::Tensor binarize_weight(const torch::Tensor& w) {
  return BinaryWeightFunction::apply(w);
}

torch::Tensor approx_sign(const torch::Tensor& x) {
  return ApproxSignFunction::apply(x);
}

torch::Tensor pact_quantize(const torch::Tensor& x, const torch::Tensor& alpha, int bits,
                            bool is_signed) {
  return PactFunction::apply(x, alpha, static_cast<int64_t>(bits), is_signed);
}

torch::Tensor lsq_quantize(const torch::Tensor& x, const torch::Tensor& step, int64_t qmin,
                           int64_t qmax, double grad_scale) {
  return LsqFunction::apply(x, step, qmin, qmax, grad_scale);
}

namespace {

torch::Tensor dorefa_unit(const torch::Tensor& w) {
  torch::Tensor t = torch::tanh(w);
  torch::Tensor m = t.abs().max().clamp_min(1e-12);
  return t / (2 * m) + 0.5;
}

}  // namespace

torch::Tensor dorefa_weight(const torch::Tensor& w, int bits) {
  const int64_t levels = unsigned_qmax(bits);
  torch::Tensor q =
      torch::fake_quantize_per_tensor_affine(dorefa_unit(w), 1.0 / levels, 0, 0, levels);
  return 2 * q - 1;
}

}  // namespace ctmq
