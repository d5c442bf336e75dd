#include "ctmq/train/mixed_precision.h"

#include <ATen/autocast_mode.h>
#include <spdlog/spdlog.h>
#include <torch/version.h>

#include <cmath>

#include "ctmq/core/errors.h"

// LibTorch 2.4 replaced the CUDA-only autocast setters by per-device ones and deprecated the
// old names; 1.13 (Debian) has only the old ones.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define CTMQ_AUTOCAST_PER_DEVICE 1
#endif

namespace ctmq {
namespace {

bool cuda_autocast_enabled() {
#ifdef CTMQ_AUTOCAST_PER_DEVICE
  return at::autocast::is_autocast_enabled(at::kCUDA);
#else
  return at::autocast::is_enabled();
#endif
}

torch::ScalarType cuda_autocast_dtype() {
#ifdef CTMQ_AUTOCAST_PER_DEVICE
  return at::autocast::get_autocast_dtype(at::kCUDA);
#else
  return at::autocast::get_autocast_gpu_dtype();
#endif
}

void set_cuda_autocast(bool enabled, torch::ScalarType dtype) {
#ifdef CTMQ_AUTOCAST_PER_DEVICE
  at::autocast::set_autocast_dtype(at::kCUDA, dtype);
  at::autocast::set_autocast_enabled(at::kCUDA, enabled);
#else
  at::autocast::set_autocast_gpu_dtype(dtype);
  at::autocast::set_enabled(enabled);
#endif
}

}  // namespace

AmpSetting resolve_amp(AmpMode amp, const torch::Device& device) {
  AmpSetting setting;
  if (amp == AmpMode::kOff) return setting;
  if (!device.is_cuda()) {
    spdlog::warn("train.amp = {} applies to CUDA devices only; training in float32 on {}",
                 choice_name(amp), device.str());
    return setting;
  }
  setting.enabled = true;
  setting.dtype = amp == AmpMode::kBf16 ? torch::kBFloat16 : torch::kHalf;
  setting.scale_loss = amp == AmpMode::kFp16;
  return setting;
}

AutocastScope::AutocastScope(const AmpSetting& setting) : active_(setting.enabled) {
  if (!active_) return;
  was_enabled_ = cuda_autocast_enabled();
  previous_dtype_ = cuda_autocast_dtype();
  set_cuda_autocast(true, setting.dtype);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // The cache of casted weights is only valid for one forward pass: torch.autocast clears it
  // when the outermost scope exits.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_cuda_autocast(was_enabled_, previous_dtype_);
}

LossScaler::LossScaler(bool enabled, double initial_scale, int growth_interval)
    : enabled_(enabled), scale_(initial_scale), growth_interval_(growth_interval) {}

torch::Tensor LossScaler::scale(const torch::Tensor& loss) const {
  return enabled_ ? loss * scale_ : loss;
}

void LossScaler::restore(double scale, int good_steps) {
  if (!(scale > 0.0) || !std::isfinite(scale) || good_steps < 0) {
    throw Error("resume state: invalid loss scale " + std::to_string(scale) + " after " +
                std::to_string(good_steps) + " good steps");
  }
  scale_ = scale;
  good_steps_ = good_steps;
}

bool LossScaler::unscale_and_update(const std::vector<torch::Tensor>& parameters) {
  if (!enabled_) return true;
  torch::NoGradGuard no_grad;
  torch::Tensor total;
  for (const auto& p : parameters) {
    if (!p.grad().defined()) continue;
    p.mutable_grad().mul_(1.0 / scale_);
    // inf and nan survive a sum, so one value tells whether every gradient is finite.
    torch::Tensor s = p.grad().sum().to(torch::kFloat);
    total = total.defined() ? total + s : s;
  }
  const bool finite = !total.defined() || std::isfinite(total.item<float>());
  if (!finite) {
    scale_ *= 0.5;
    good_steps_ = 0;
    return false;
  }
  if (++good_steps_ >= growth_interval_) {
    scale_ *= 2.0;
    good_steps_ = 0;
  }
  return true;
}

void convert_to_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters(true)) {
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }
  for (auto& b : module.buffers(true)) {
    if (b.dim() == 4) b.set_data(b.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

}  // namespace ctmq
