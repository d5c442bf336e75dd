#include "ctmq/models/batch_norm.h"

namespace ctmq {

BatchNorm2dImpl::BatchNorm2dImpl(int64_t num_features, double eps, double momentum)
    : num_features_(num_features), eps_(eps), momentum_(momentum) {
  weight = register_parameter("weight", torch::ones({num_features}));
  bias = register_parameter("bias", torch::zeros({num_features}));
  running_mean = register_buffer("running_mean", torch::zeros({num_features}));
  running_var = register_buffer("running_var", torch::ones({num_features}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
}

void BatchNorm2dImpl::set_folded(torch::Tensor factor, torch::Tensor offset) {
  if (!factor.defined()) {
    folded_factor_ = folded_offset_ = folded_factor_float_ = folded_offset_float_ = torch::Tensor();
    return;
  }
  folded_factor_ = factor.to(torch::kDouble).reshape({1, -1, 1, 1});
  folded_offset_ = offset.to(torch::kDouble).reshape({1, -1, 1, 1});
  folded_factor_float_ = folded_factor_.to(torch::kFloat);
  folded_offset_float_ = folded_offset_.to(torch::kFloat);
}

torch::Tensor BatchNorm2dImpl::forward(const torch::Tensor& x) {
  if (!is_training() && folded_factor_.defined()) {
    if (x.scalar_type() == torch::kDouble) {
      return x.mul(folded_factor_).add(folded_offset_).to(torch::kFloat);
    }
    // mul, then add: two kernels, so no fused multiply-add can round them as one.
    return x.mul(folded_factor_float_).add(folded_offset_float_);
  }
  if (!is_training()) {
    return torch::batch_norm(x, weight, bias, running_mean, running_var, false, momentum_, eps_,
                             /*cudnn_enabled=*/true);
  }
  {
    torch::NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
  if (sync_) {
    return sync_->forward(x, weight, bias, running_mean, running_var, momentum_, eps_);
  }
  return torch::batch_norm(x, weight, bias, running_mean, running_var, true, momentum_, eps_,
                           /*cudnn_enabled=*/true);
}

}  // namespace ctmq
