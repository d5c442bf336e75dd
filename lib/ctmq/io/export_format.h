#pragma once
// The exported-model file shared by export.cpp (writer) and exported_model.cpp (reader):
//
//   bytes 0..7    magic "CTMQEXP1"
//   bytes 8..15   header length H, uint64 little-endian
//   16..16+H      JSON header, padded with spaces so the blob region starts 8-byte aligned
//   16+H..end     blob region: raw little-endian tensors, each 8-byte aligned
//
// The header holds the NetworkConfig ("network"), the stage depths ("bits"), one entry per
// conv/linear layer ("layers": the weight's integer codes and its per-group scale and offset,
// w = code * scale + offset, and the input quantizer), and every other parameter or buffer
// ("tensors": BatchNorm, biases, PACT alpha, LSQ steps), and what a deployment feeds the network
// ("deployment", optional: class names, input size, resize, normalisation, channels; see
// commands/deploy_metadata.h; readers that do not know it ignore it). A blob reference is {dtype,
// shape, offset, nbytes} with dtype one of float32, int64, int16, int8, uint8 and offset relative
// to the blob region. A layer's "encoding" says how its codes are stored:
//   "bits"     b = 1: one bit per weight (1 = +1, 0 = -1), LSB first, as uint8 bytes;
//   "packed"   b = 2..8 (version 2): code + 2^(b-1) in b bits, LSB first, weight after weight
//              in row-major order, as uint8 bytes (the last byte zero-padded);
//   "int8"     b = 2..8 in version 1 files: one int8 per code;
//   "int16"    b = 9..16: one int16 per code;
//   "float32"  b = 32: the float weight itself.
// Version 2 differs from version 1 only by "packed"; readers accept both.

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace ctmq {

constexpr char kExportMagic[] = "CTMQEXP1";
constexpr size_t kExportMagicSize = 8;
constexpr int kExportVersion = 2;
/// The oldest version readers still accept.
constexpr int kExportMinVersion = 1;

/// The dtype name used in blob references, or "" for an unsupported dtype.
inline std::string export_dtype_name(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat:
      return "float32";
    case torch::kLong:
      return "int64";
    case torch::kShort:
      return "int16";
    case torch::kChar:
      return "int8";
    case torch::kByte:
      return "uint8";
    default:
      return "";
  }
}

}  // namespace ctmq
