#pragma once
// Bit-depth arithmetic shared by the quantizers: level counts of the signed and unsigned grids.

#include <cstdint>
#include <string>

namespace ctmq {

/// Bit depth meaning "no quantization" (identity); also spec.h's kFullPrecisionBits.
constexpr int kFloatBits = 32;

/// True for 32, the full-precision depth.
inline bool is_float_bits(int bits) {
  return bits == kFloatBits;
}

/// Throws SpecError naming `what` unless `bits` is in 1..16 or 32.
void check_bits(int bits, const std::string& what);

/// Largest code of the unsigned grid {0, ..., 2^b - 1}.
inline int64_t unsigned_qmax(int bits) {
  return (int64_t{1} << bits) - 1;
}

/// Magnitude of the most negative code of the signed grid {-2^(b-1), ..., 2^(b-1) - 1}.
inline int64_t signed_qn(int bits) {
  return int64_t{1} << (bits - 1);
}

/// Largest code of the signed grid {-2^(b-1), ..., 2^(b-1) - 1}.
inline int64_t signed_qp(int bits) {
  return (int64_t{1} << (bits - 1)) - 1;
}

}  // namespace ctmq
