#include "ctmq/dist/gradient_buckets.h"

#include <utility>

#include "ctmq/dist/dist_error.h"

namespace ctmq {
namespace {

size_t tensor_bytes(const torch::Tensor& tensor) {
  return static_cast<size_t>(tensor.numel()) * tensor.element_size();
}

bool same_kind(const torch::Tensor& a, const torch::Tensor& b) {
  return a.scalar_type() == b.scalar_type() && a.device() == b.device();
}

}  // namespace

GradientBucketer::GradientBucketer(std::vector<torch::Tensor> params, size_t bucket_bytes)
    : params_(std::move(params)) {
  if (bucket_bytes == 0) throw DistError("gradient bucket size must be positive", -1, kExitUsage);
  std::vector<size_t> current;
  size_t current_bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const auto& param = params_[k];
    if (!param.defined()) throw DistError("gradient bucketer got an undefined parameter", -1);
    bool fits = current_bytes + tensor_bytes(param) <= bucket_bytes;
    if (!current.empty() && (!fits || !same_kind(params_[current.front()], param))) {
      buckets_.push_back(std::move(current));
      current.clear();
      current_bytes = 0;
    }
    current.push_back(k);
    current_bytes += tensor_bytes(param);
  }
  if (!current.empty()) buckets_.push_back(std::move(current));
}

void GradientBucketer::all_reduce_average(DistContext& context) {
  if (!context.is_distributed()) return;
  torch::NoGradGuard no_grad;
  struct InFlight {
    torch::Tensor flat;
    CollectiveHandle handle;
  };
  std::vector<InFlight> in_flight;
  in_flight.reserve(buckets_.size());
  for (const auto& bucket : buckets_) {
    const auto& first = params_[bucket.front()];
    int64_t numel = 0;
    for (size_t k : bucket) numel += params_[k].numel();
    auto flat = torch::empty({numel}, first.options().device(context.device()));
    int64_t offset = 0;
    for (size_t k : bucket) {
      const auto& param = params_[k];
      auto slice = flat.narrow(0, offset, param.numel());
      const auto& grad = param.grad();
      if (!grad.defined()) {
        slice.zero_();
      } else if (grad.is_sparse()) {
        throw DistError("sparse gradients are not supported by the gradient bucketer",
                        context.rank());
      } else {
        slice.copy_(grad.reshape({-1}));
      }
      offset += param.numel();
    }
    auto handle = context.all_reduce_sum_async(flat);
    in_flight.push_back({std::move(flat), std::move(handle)});
  }
  const double inverse_world = 1.0 / static_cast<double>(context.world_size());
  for (size_t b = 0; b < buckets_.size(); ++b) {
    in_flight[b].handle.wait();
    auto& flat = in_flight[b].flat;
    flat.mul_(inverse_world);
    int64_t offset = 0;
    for (size_t k : buckets_[b]) {
      auto& param = params_[k];
      auto averaged = flat.narrow(0, offset, param.numel()).view(param.sizes());
      auto& grad = param.mutable_grad();
      if (grad.defined()) {
        grad.copy_(averaged);
      } else {
        grad = averaged.to(param.device()).clone();
      }
      offset += param.numel();
    }
  }
}

}  // namespace ctmq
