#pragma once
// What follows a binary convolution's integer dot products, per output channel: the weight
// scale and the BatchNorm folded into one affine map, or, where the next layer only takes the
// sign, an integer threshold. Torch-free.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ctmq/engine/kernel_isa.h"

namespace ctmq::engine {

/// BatchNorm(scale * dot) in eval mode: exactly, (dot * scale) * alpha + beta with alpha =
/// gamma / sqrt(var + eps) and beta = bias - mean * alpha, all in double. The dot is exact, and
/// in double the rest is too, up to ~1e-16: the sign a binary layer takes is the one exact
/// arithmetic gives, also for a pre-activation within float32 round-off of zero, where the
/// float path's own sign depends on its summation order (docs/engine.md, "Correctness").
///
/// The values themselves are computed in float, as the float path computes them: dot * factor
/// + offset (+ residual), each operation rounded, eight channels a register where double takes
/// four. Where such a value lies within `margin` (plus 2^-20 of the residual's magnitude) of
/// zero, which covers float's round-off several times over, its sign is taken from the double
/// sum instead.
struct ChannelAffine {
  std::vector<double> scale;
  std::vector<double> alpha;
  std::vector<double> beta;
  // From derive_float_terms():
  std::vector<float> factor;  ///< float(scale * alpha)
  std::vector<float> offset;  ///< float(beta)
  std::vector<float> margin;  ///< 2^-20 * (max_abs_dot * |scale * alpha| + |beta|), rounded up

  int64_t channels() const { return static_cast<int64_t>(scale.size()); }
  double value(int64_t channel, int32_t dot) const {
    const size_t c = static_cast<size_t>(channel);
    return (static_cast<double>(dot) * scale[c]) * alpha[c] + beta[c];
  }
  /// Sets factor, offset and margin for dot products up to max_abs_dot in magnitude.
  void derive_float_terms(int32_t max_abs_dot);
};

/// The share of a residual's magnitude added to ChannelAffine::margin.
constexpr float kResidualMargin = 0x1p-20f;

/// Whether the double sum affine.value(channel, dot) (+ *residual, when not null) is not >= 0:
/// the sign bit affine_rows takes where the float value is too near zero to tell.
bool exact_sign_bit(const ChannelAffine& affine, int64_t channel, int32_t dot,
                    const float* residual);

/// One output of affine_rows: writes the float value to *out and returns its sign bit (set for
/// -1). Inline, so that each kernel file compiles it for its own instruction set; no fused
/// multiply-add (the kernel files are built without -mfma), so every ISA gives the same bits.
inline bool affine_one(const ChannelAffine& affine, int64_t channel, int32_t dot,
                       const float* residual, float* out) {
  const size_t c = static_cast<size_t>(channel);
  float v = static_cast<float>(dot) * affine.factor[c];
  v = v + affine.offset[c];
  float bound = affine.margin[c];
  if (residual != nullptr) {
    v = v + *residual;
    bound = bound + std::fabs(*residual) * kResidualMargin;
  }
  *out = v;
  // Not (v >= 0): negative values and NaN give -1, as training's sign(). Near zero (or NaN)
  // the double sum decides.
  return std::fabs(v) > bound ? !(v >= 0.f) : exact_sign_bit(affine, channel, dot, residual);
}

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

/// out[p, c] = (float(dots[p, c]) * factor[c] + offset[c]) (+ residual[p, c] when residual is
/// not null), in float, for `pixels` rows of affine.channels() values; where `signs` is not
/// null, their signs are packed there too (words_for(channels) words per pixel): the sign of
/// the double sum affine.value(c, dot) (+ residual) wherever the float value could differ from
/// it. Every `isa` gives the same bits (the same operations in the same order, none fused).
void affine_rows(KernelIsa isa, const ChannelAffine& affine, const int32_t* dots, int64_t pixels,
                 const float* residual, float* out, uint64_t* signs);

/// Packs sign(affine) of `pixels` rows of dots through the thresholds into `signs`.
void threshold_rows(KernelIsa isa, const ChannelThreshold& thresholds, const int32_t* dots,
                    int64_t pixels, uint64_t* signs);

}  // namespace ctmq::engine
