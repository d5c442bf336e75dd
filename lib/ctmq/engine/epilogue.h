#pragma once
// What follows a binary convolution's integer dot products, per output channel: the weight
// scale and the BatchNorm folded into one affine map, or, where the next layer only takes the
// sign, an integer threshold. Torch-free.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ctmq/engine/kernel_isa.h"

namespace ctmq::engine {

/// BatchNorm(scale * dot) in eval mode, evaluated in double as (dot * scale) * alpha + beta with
/// alpha = gamma / sqrt(var + eps) and beta = bias - mean * alpha. The dot is exact, and in
/// double the rest is too, up to ~1e-16: a binary layer's sign is then the one exact arithmetic
/// gives, also for a pre-activation within float32 round-off of zero, where the float path's
/// own sign depends on its summation order (docs/engine.md, "Correctness").
struct ChannelAffine {
  std::vector<double> scale;
  std::vector<double> alpha;
  std::vector<double> beta;

  int64_t channels() const { return static_cast<int64_t>(scale.size()); }
  double value(int64_t channel, int32_t dot) const {
    const size_t c = static_cast<size_t>(channel);
    return (static_cast<double>(dot) * scale[c]) * alpha[c] + beta[c];
  }
};

/// sign(ChannelAffine) as integers: the output is -1 (a set bit) where
/// direction * dot < threshold. direction is +1 or -1 (the sign of scale * alpha), or 0 for a
/// constant channel.
struct ChannelThreshold {
  std::vector<int32_t> threshold;
  std::vector<int32_t> direction;
};

/// The thresholds that give exactly sign(affine.value(c, dot)) (sign(0) = +1) for every dot
/// in [-max_abs_dot, max_abs_dot].
ChannelThreshold threshold_of(const ChannelAffine& affine, int32_t max_abs_dot);

/// out[p, c] = float(affine.value(c, dots[p, c]) (+ residual[p, c] when residual is not null)),
/// summed in double, for `pixels` rows of affine.channels() values; where `signs` is not null,
/// the signs of the double sums are packed there too (words_for(channels) words per pixel).
/// Every `isa` gives the same bits (the same operations in the same order, none fused).
void affine_rows(KernelIsa isa, const ChannelAffine& affine, const int32_t* dots, int64_t pixels,
                 const float* residual, float* out, uint64_t* signs);

/// Packs sign(affine) of `pixels` rows of dots through the thresholds into `signs`.
void threshold_rows(KernelIsa isa, const ChannelThreshold& thresholds, const int32_t* dots,
                    int64_t pixels, uint64_t* signs);

}  // namespace ctmq::engine
