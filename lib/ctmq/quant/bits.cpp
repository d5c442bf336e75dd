#include "ctmq/quant/bits.h"

#include "ctmq/core/errors.h"

namespace ctmq {

void check_bits(int bits, const std::string& what) {
  if ((bits >= 1 && bits <= 16) || bits == kFloatBits) return;
  throw SpecError(what + ": bit depth " + std::to_string(bits) + " is not in 1..16 or 32");
}

}  // namespace ctmq
