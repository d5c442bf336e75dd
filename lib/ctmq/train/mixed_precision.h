#pragma once
// Mixed precision and memory format for CUDA training (`train.amp`, `train.channels_last`).
// Both compile in every LibTorch build; on a CPU run amp is switched off with one warning
// (oneDNN's CPU kernels gain nothing from bf16 autocast on the machines we measured).

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "ctmq/spec/choices.h"

namespace ctmq {

/// What `train.amp` resolves to on this device: off, bf16 or fp16.
struct AmpSetting {
  bool enabled = false;
  torch::ScalarType dtype = torch::kFloat;
  bool scale_loss = false;  ///< fp16 needs a loss scaler; bf16 has fp32's exponent range
};

/// Resolves `train.amp` for `device`: anything but off on a non-CUDA device is
/// turned off with a warning, so one spec serves a laptop and a cluster.
AmpSetting resolve_amp(AmpMode amp, const torch::Device& device);

/// Autocast on CUDA for the lifetime of the object (the forward pass and the loss), with the
/// cast cache cleared on exit as torch.autocast does. Does nothing when `setting` is off.
class AutocastScope {
 public:
  explicit AutocastScope(const AmpSetting& setting);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool was_enabled_ = false;
  torch::ScalarType previous_dtype_ = torch::kFloat;
};

/// Dynamic loss scaling for fp16, as torch.cuda.amp.GradScaler: multiply the loss by the scale,
/// unscale the gradients before the step, skip the step and halve the scale when a gradient is
/// not finite, double it after `growth_interval` good steps in a row.
class LossScaler {
 public:
  explicit LossScaler(bool enabled, double initial_scale = 65536.0, int growth_interval = 2000);

  /// The loss to call backward() on.
  torch::Tensor scale(const torch::Tensor& loss) const;
  /// Divides the gradients by the scale; true when all are finite and the step may be taken.
  /// Updates the scale. Always true when disabled.
  bool unscale_and_update(const std::vector<torch::Tensor>& parameters);
  double current_scale() const { return scale_; }
  int good_steps() const { return good_steps_; }
  bool enabled() const { return enabled_; }
  /// Continues from a saved scale and run of good steps (a resumed stage), so that a resume
  /// does not restart at the initial scale and skip steps to find it again.
  void restore(double scale, int good_steps);

 private:
  bool enabled_;
  double scale_;
  int growth_interval_;
  int good_steps_ = 0;
};

/// Converts every 4-D parameter and buffer of `module` to channels-last memory in place.
void convert_to_channels_last(torch::nn::Module& module);

}  // namespace ctmq
