#pragma once
// The exported-model file shared by export.cpp (writer) and exported_model.cpp (reader):
//
//   bytes 0..7    magic "CTMQEXP1"
//   bytes 8..15   header length H, uint64 little-endian
//   16..16+H      JSON header, padded with spaces so the blob region starts 8-byte aligned
//   16+H..end     blob region: raw little-endian tensors, each 8-byte aligned
//
// The header holds the NetworkConfig ("network"), the stage depths ("bits"), one entry per
// conv/linear layer ("layers": integer codes as int8 for b <= 8, int16 for b > 8, one bit per
// weight for b = 1, float32 at 32 bits; per-group scale and offset with w = code * scale +
// offset; the input quantizer), and every other parameter or buffer ("tensors": BatchNorm,
// biases, PACT alpha, LSQ steps). A blob reference is {dtype, shape, offset, nbytes} with
// dtype one of float32, int64, int16, int8, uint8 and offset relative to the blob region.

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace ctmq {

constexpr char kExportMagic[] = "CTMQEXP1";
constexpr size_t kExportMagicSize = 8;
constexpr int kExportVersion = 1;

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
