#pragma once
// A quantized weight as integers, the form export writes and the float path rebuilds.

#include <torch/torch.h>

namespace ctmq {

/// w = codes * scale[g] + offset[g], where group g is the output channel
/// (scale.numel() == size(0)) or the whole tensor (scale.numel() == 1).
/// Codes lie in the signed grid -2^(b-1)..2^(b-1)-1, or are -1/+1 for b = 1.
struct EncodedWeight {
  int bits = 32;
  torch::Tensor codes;   ///< int64, the weight's shape
  torch::Tensor scale;   ///< float, [groups]
  torch::Tensor offset;  ///< float, [groups]
};

/// Rebuilds the dequantized float weight of an EncodedWeight.
torch::Tensor decode_weight(const EncodedWeight& encoded);

/// `per_group` ([groups]) shaped to broadcast over `like` along dim 0.
torch::Tensor group_view(const torch::Tensor& per_group, const torch::Tensor& like);

}  // namespace ctmq
