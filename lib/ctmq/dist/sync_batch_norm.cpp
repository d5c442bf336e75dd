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
    // Sums in double: E[x^2] - E[x]^2 in float would cancel badly for channels with a large mean.
    auto x = input.contiguous();
    auto stats = torch::cat({x.sum(dims, /*keepdim=*/false, torch::kDouble),
                             (x * x).sum(dims, /*keepdim=*/false, torch::kDouble),
                             torch::full({1}, static_cast<double>(x.numel() / channels),
                                         torch::dtype(torch::kDouble).device(x.device()))});
    context->all_reduce_sum_(stats);
    const double count = stats[2 * channels].item<double>();
    if (count <= 1) {
      throw DistError(
          "batch norm in training mode needs more than one value per channel over "
          "all ranks, got " +
              std::to_string(static_cast<int64_t>(count)),
          context->rank());
    }
    auto mean = stats.narrow(0, 0, channels) / count;
    auto var = (stats.narrow(0, channels, channels) / count - mean * mean).clamp_min(0);
    auto invstd = (var + eps).rsqrt();
    if (running_mean.defined()) {
      running_mean.mul_(1 - momentum).add_(mean.to(running_mean.scalar_type()), momentum);
    }
    if (running_var.defined()) {
      auto unbiased = var * (count / (count - 1));
      running_var.mul_(1 - momentum).add_(unbiased.to(running_var.scalar_type()), momentum);
    }
    mean = mean.to(x.scalar_type());
    invstd = invstd.to(x.scalar_type());
    auto output = (x - per_channel(mean, x)) * per_channel(invstd, x);
    if (weight.defined()) output = output * per_channel(weight, x);
    if (bias.defined()) output = output + per_channel(bias, x);

    ctx->save_for_backward({x, weight, mean, invstd});
    ctx->saved_data["count"] = count;
    ctx->saved_data["context"] = reinterpret_cast<int64_t>(context);
    ctx->saved_data["has_bias"] = bias.defined();
    return output;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto& mean = saved[2];
    const auto& invstd = saved[3];
    const double count = ctx->saved_data["count"].toDouble();
    const int64_t channels = x.size(1);
    const auto dims = reduce_dims(x);
    auto dy = grad_outputs[0].contiguous();

    // PyTorch's batch_norm_backward_reduce: local sums, from which the local weight/bias grads.
    auto xmu = x - per_channel(mean, x);
    auto sum_dy = dy.sum(dims);
    auto sum_dy_xmu = (dy * xmu).sum(dims);
    torch::Tensor grad_input, grad_weight, grad_bias;
    if (weight.defined() && ctx->needs_input_grad(1)) grad_weight = sum_dy_xmu * invstd;
    if (ctx->saved_data["has_bias"].toBool() && ctx->needs_input_grad(2)) grad_bias = sum_dy;

    if (ctx->needs_input_grad(0)) {
      auto sums = torch::cat({sum_dy, sum_dy_xmu});
      context_from(ctx)->all_reduce_sum_(sums);
      auto mean_dy = sums.narrow(0, 0, channels) / count;
      auto mean_dy_xmu = sums.narrow(0, channels, channels) / count;
      // batch_norm_backward_elemt: dx = (dy - E[dy] - xmu * invstd^2 * E[dy * xmu]) * invstd * w.
      auto scale = weight.defined() ? invstd * weight : invstd;
      grad_input =
          (dy - per_channel(mean_dy, x) - xmu * per_channel(invstd * invstd * mean_dy_xmu, x)) *
          per_channel(scale, x);
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
