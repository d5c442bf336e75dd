#pragma once
// Weight codes packed b bits each, the exported file's "bits" (b = 1) and "packed" (b = 2..8)
// encodings (export_format.h): a W2 network's weights take a quarter of their int8 size.

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace ctmq {

/// Codes (any integer dtype) of a b-bit signed grid, b in 1..8, packed LSB first into uint8
/// bytes: code + 2^(b-1) in b bits (b = 1: 1 for +1, 0 for -1), in row-major order.
torch::Tensor pack_codes(const torch::Tensor& codes, int bits);

/// The int64 codes of `shape` that pack_codes packed; throws std::invalid_argument when
/// `packed` holds too few bytes.
torch::Tensor unpack_codes(const torch::Tensor& packed, int bits,
                           const std::vector<int64_t>& shape);

}  // namespace ctmq
