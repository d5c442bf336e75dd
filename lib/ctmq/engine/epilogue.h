#pragma once
// What follows a binary convolution's integer dot products, per output channel: the weight
// scale and the BatchNorm folded into one affine map, or, where the next layer only takes the
// sign, an integer threshold. Torch-free.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ctmq/engine/kernel_isa.h"

namespace ctmq::engine {

/// BatchNorm(scale * dot) in eval mode as the float path's inference form computes it
/// (models/inference_form.h): (float(dot) * factor) + offset, two rounded float operations, with
/// factor = scale * gamma / sqrt(var + eps) and offset = bias - mean * gamma / sqrt(var + eps)
/// rounded to float once. The dot product is exact, so every value, and every sign, is the
/// float path's.
struct ChannelAffine {
  std::vector<float> factor;
  std::vector<float> offset;

  int64_t channels() const { return static_cast<int64_t>(factor.size()); }
  float value(int64_t channel, int32_t dot) const {
    const size_t c = static_cast<size_t>(channel);
    const float scaled = static_cast<float>(dot) * factor[c];
    return scaled + offset[c];
  }
};

/// One output of affine_rows: writes value(channel, dot) (+ *residual, when not null) to *out
/// and returns its sign bit (set for -1). Inline, so that each kernel file compiles it for its
/// own instruction set; no fused multiply-add (the kernel files are built without -mfma), so
/// every ISA gives the float path's bits.
inline bool affine_one(const ChannelAffine& affine, int64_t channel, int32_t dot,
                       const float* residual, float* out) {
  float v = affine.value(channel, dot);
  if (residual != nullptr) v = v + *residual;
  *out = v;
  // Not (v >= 0): negative values and NaN give -1, as training's sign().
  return !(v >= 0.f);
}

/// sign(ChannelAffine) as integers: the output is -1 (a set bit) where
/// direction * dot < threshold. direction is +1 or -1 (the sign of scale * alpha), or 0 for a
/// constant channel.
struct ChannelThreshold {
  std::vector<int32_t> threshold;
  std::vector<int32_t> direction;
};

/// The thresholds that give exactly sign(affine.value(c, dot)) (sign(0) = +1; NaN gives -1)
/// for every dot in [-max_abs_dot, max_abs_dot].
ChannelThreshold threshold_of(const ChannelAffine& affine, int32_t max_abs_dot);

/// out[p, c] = affine.value(c, dots[p, c]) (+ residual[p, c] when residual is not null), in
/// float, for `pixels` rows of affine.channels() values; where `signs` is not null, their signs
/// are packed there too (words_for(channels) words per pixel). Every `isa` gives the same bits
/// (the same operations in the same order, none fused).
void affine_rows(KernelIsa isa, const ChannelAffine& affine, const int32_t* dots, int64_t pixels,
                 const float* residual, float* out, uint64_t* signs);

/// Packs sign(affine) of `pixels` rows of dots through the thresholds into `signs`.
void threshold_rows(KernelIsa isa, const ChannelThreshold& thresholds, const int32_t* dots,
                    int64_t pixels, uint64_t* signs);

}  // namespace ctmq::engine
