#pragma once
// The form in which the float path (ExportedModel) runs an exported W1A1 network, and which the
// XNOR engine reproduces bit for bit: every conv and the BatchNorm after it become
// conv(x, codes) * factor + offset, per output channel.
//
// - A W1A1 conv convolves the +-1 activations with the sign of its weights: every sum is an
//   integer, exact in float in any order, so the float path's sums are the engine's popcount
//   dot products. Its weight scale and the BatchNorm fold into factor and offset, rounded to
//   float once; the value is (dot * factor) + offset in float, two rounded operations, and the
//   engine does the same two.
// - The float convs of such a network (a 3x3 stem, Bi-Real's downsample) compute in double and
//   round once to float, so that their values do not hang on a library's summation order:
//   double's round-off (~1e-16) moves a float result only where the exact one lies that close
//   to a rounding boundary. ImageNet's 7x7 stem stays in float: at 224x224 it is a third of
//   the engine's time, and double would cost it another third (docs/engine.md).
//
// Networks that are not W1A1 keep the training form.

#include <torch/torch.h>

#include "ctmq/models/batch_norm.h"
#include "ctmq/models/network.h"

namespace ctmq {

/// bn(conv(x, scale * codes)) in eval mode as conv(x, codes) * factor + offset, in double (C):
/// factor = scale * gamma / sqrt(var + eps), offset = bias - mean * gamma / sqrt(var + eps).
struct FoldedBatchNorm {
  torch::Tensor factor;
  torch::Tensor offset;
};

/// `scale`: (C), the conv weight's magnitude per output channel, or undefined for 1.
FoldedBatchNorm fold_batch_norm(const torch::Tensor& scale, const BatchNorm2dImpl& bn);

/// The magnitude per output channel of a dequantized 1-bit conv weight (+-scale); throws Error
/// naming `layer` where the weight is not +-scale per channel.
torch::Tensor binary_weight_scale(const torch::Tensor& weight, const std::string& layer);

/// Whether the network's float convs compute in double in the inference form: a W1A1 network
/// without ImageNet's 7x7 stem.
bool float_convs_in_double(const QuantNetworkImpl& network);

/// Puts an exported (prequantized) W1A1 network into the inference form; leaves any other
/// network as it is.
void use_inference_form(QuantNetworkImpl& network);

}  // namespace ctmq
