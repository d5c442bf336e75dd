#pragma once
// A trained network as a standard ONNX model that onnxruntime (or any ONNX runtime) runs as it
// is and that gives the logits of ctmq's eval mode:
//  - weights at 2..8 bits (and binary ones) are int8 codes behind a DequantizeLinear (per
//    output channel where the scale is), plus an Add of DoReFa's offset; at 9..16 and 32 bits
//    they are the float values training uses;
//  - k-bit activations are Mul/Clip/Round/Mul chains with training's own constants (its
//    fused kernels multiply by 1/scale, where QuantizeLinear would divide, and PACT's signed
//    grid has no integer zero point); 1-bit activations are Sign(Sign(x) + 1/2), which is
//    training's sign with sign(0) = +1 (ONNX's Sign(0) is 0);
//  - BatchNorm is a BatchNormalization node with the running statistics (runtimes fold it);
//  - the input "image" is the normalised NCHW image, the output "logits".

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ctmq/models/network.h"

namespace ctmq {

/// The opset the ONNX export writes: DequantizeLinear with an axis needs 13.
constexpr int64_t kOnnxOpset = 13;

struct OnnxExportOptions {
  /// metadata_props of the model, in order (normalisation, class names, stage...).
  std::vector<std::pair<std::string, std::string>> metadata;
};

/// The network at its current depths, in eval mode, as a serialized ONNX model that the ONNX
/// checker accepted. Throws Error naming the layer when a quantizer was never calibrated (its
/// values would only be set by the first batch ctmq runs).
std::string network_to_onnx(QuantNetworkImpl& network, const OnnxExportOptions& options);

}  // namespace ctmq
