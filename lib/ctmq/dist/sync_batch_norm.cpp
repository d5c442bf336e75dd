#include "ctmq/dist/sync_batch_norm.h"

#include <cstdint>
#include <vector>

#include "ctmq/dist/dist_error.h"

namespace ctmq {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// All dimensions but the channel dimension 1.
std::vector<int64_t> reduce_dims(const torch::Tensor& input) {
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < input.dim(); ++d) dims.push_back(d);
  return dims;
}

// A per-channel vector shaped to broadcast against (N, C, ...).
torch::Tensor per_channel(const torch::Tensor& values, const torch::Tensor& input) {
  std::vector<int64_t> shape(static_cast<size_t>(input.dim()), 1);
  shape[1] = input.size(1);
  return values.view(shape);
}

// fp16/bf16 tensors in float32, the precision the statistics and gradient sums need.
torch::Tensor compute_precision(const torch::Tensor& t) {
  return t.scalar_type() == torch::kHalf || t.scalar_type() == torch::kBFloat16
             ? t.to(torch::kFloat)
             : t;
}

DistContext* context_from(AutogradContext* ctx) {
  return reinterpret_cast<DistContext*>(ctx->saved_data["context"].toInt());
}

struct SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               torch::Tensor running_mean, torch::Tensor running_var,
                               double momentum, double eps, DistContext* context) {
    const int64_t channels = input.size(1);
    const auto dims = reduce_dims(input);
    // Under autocast the input may be fp16/bf16, whose squares overflow above 256: everything
    // here is float32 (as PyTorch's CUDA kernels do), and only the output is cast back.
    auto x = compute_precision(input.contiguous());
    const auto dtype = x.scalar_type();

    // The arithmetic of LibTorch's CPU BatchNorm, step by step, so that the ranks together
    // compute what one process computes on the whole batch, to the bit: a difference of one ulp
    // in a channel's statistics flips hardtanh/ReLU gradient masks of activations that sit on
    // the boundary, and one flipped element moves the stem's gradient by ~1e-3.
    // Mean: a sum in double, divided in double, rounded to float.
    auto sums = torch::cat({x.sum(dims, /*keepdim=*/false, torch::kDouble),
                            torch::full({1}, static_cast<double>(x.numel() / channels),
                                        torch::dtype(torch::kDouble).device(x.device()))});
    context->all_reduce_sum_(sums);
    const double count = sums[channels].item<double>();
    if (count <= 1) {
      throw DistError(
          "batch norm in training mode needs more than one value per channel over "
          "all ranks, got " +
              std::to_string(static_cast<int64_t>(count)),
          context->rank());
    }
    auto mean = (sums.narrow(0, 0, channels) / count).to(dtype);
    // Variance: float squares around the rounded mean, summed in double, the sum rounded to
    // float and divided in float (a second, small all-reduce: the price of the exact match).
    auto var_sum = (x - per_channel(mean, x)).square().sum(dims, /*keepdim=*/false, torch::kDouble);
    context->all_reduce_sum_(var_sum);
    auto var_sum_rounded = var_sum.to(dtype);
    auto var = var_sum_rounded / count;
    auto invstd = (var.to(torch::kDouble) + eps).sqrt().reciprocal().to(dtype);
    // Running statistics in float, as LibTorch updates them (the mean to the bit, the variance
    // within an ulp: they only matter in evaluation).
    if (running_mean.defined()) {
      running_mean.copy_(running_mean * (1 - momentum) +
                         mean.to(running_mean.scalar_type()) * momentum);
    }
    if (running_var.defined()) {
      auto unbiased = (var_sum_rounded / (count - 1)).to(running_var.scalar_type());
      running_var.copy_(running_var * (1 - momentum) + unbiased * momentum);
    }
    // y = x * alpha + beta with alpha = invstd * w, beta = b - mean * alpha; addcmul fuses the
    // multiply-add as LibTorch's kernel does.
    auto alpha = weight.defined() ? invstd * weight.to(dtype) : invstd;
    auto beta = torch::addcmul(bias.defined() ? bias.to(dtype) : torch::zeros_like(alpha), mean,
                               alpha, /*value=*/-1);
    auto output = torch::addcmul(per_channel(beta, x), x, per_channel(alpha, x));

    ctx->save_for_backward({input, weight, mean, invstd});
    ctx->saved_data["count"] = count;
    ctx->saved_data["context"] = reinterpret_cast<int64_t>(context);
    ctx->saved_data["has_bias"] = bias.defined();
    return output.to(input.scalar_type());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto saved = ctx->get_saved_variables();
    const auto& input = saved[0];
    const auto& weight = saved[1];
    const auto& mean = saved[2];
    const auto& invstd = saved[3];
    const double count = ctx->saved_data["count"].toDouble();
    const int64_t channels = input.size(1);
    const auto dims = reduce_dims(input);
    // float32 (or double) throughout: fp16 sums of dy under a 65536 loss scale overflow.
    auto x = compute_precision(input.contiguous());
    auto dy = compute_precision(grad_outputs[0].contiguous());
    const auto dtype = x.scalar_type();

    // PyTorch's batch_norm_backward_reduce: local sums (in double, as LibTorch's CPU kernel
    // accumulates), from which the local weight/bias grads; the gradient all-reduce then
    // averages those, as for PyTorch's SyncBatchNorm.
    auto xmu = x - per_channel(mean, x);
    auto sum_dy = dy.sum(dims, /*keepdim=*/false, torch::kDouble);
    auto sum_dy_xmu = (xmu * dy).sum(dims, /*keepdim=*/false, torch::kDouble);
    torch::Tensor grad_input, grad_weight, grad_bias;
    if (weight.defined() && ctx->needs_input_grad(1)) {
      grad_weight = (sum_dy_xmu * invstd.to(torch::kDouble)).to(weight.scalar_type());
    }
    if (ctx->saved_data["has_bias"].toBool() && ctx->needs_input_grad(2)) {
      grad_bias = sum_dy.to(weight.defined() ? weight.scalar_type() : dtype);
    }

    if (ctx->needs_input_grad(0)) {
      auto sums = torch::cat({sum_dy, sum_dy_xmu});
      context_from(ctx)->all_reduce_sum_(sums);
      // LibTorch's order: k = dotp * invstd * invstd / N in float, E[dy] rounded from double.
      auto mean_dy = (sums.narrow(0, 0, channels) / count).to(dtype);
      auto k = sums.narrow(0, channels, channels).to(dtype) * invstd * invstd / count;
      // batch_norm_backward_elemt: dx = (dy - E[dy] - xmu * k) * invstd * w.
      grad_input =
          (dy - per_channel(mean_dy, x) - xmu * per_channel(k, x)) * per_channel(invstd, x);
      if (weight.defined()) grad_input = grad_input * per_channel(weight.to(dtype), x);
      grad_input = grad_input.to(input.scalar_type());
    }
    return {grad_input,      grad_weight,     grad_bias,       torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor GlooSyncBatchNorm::forward(const torch::Tensor& input, const torch::Tensor& weight,
                                         const torch::Tensor& bias, torch::Tensor& running_mean,
                                         torch::Tensor& running_var, double momentum, double eps) {
  if (input.dim() < 2) {
    throw DistError(
        "batch norm input must be (N, C, ...), got " + std::to_string(input.dim()) + " dimensions",
        context_.rank());
  }
  // GCC 14 inlines LibTorch 2.6's Function::apply here and warns falsely (-Warray-bounds, then
  // -Wstringop-overflow) on the std::vector<bool>::reserve inside it: GCC's analysis is wrong.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
  return SyncBatchNormFunction::apply(input, weight, bias, running_mean, running_var, momentum, eps,
                                      &context_);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
}

}  // namespace ctmq
