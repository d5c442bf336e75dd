#include "ctmq/io/bit_packing.h"

#include <stdexcept>

namespace ctmq {
namespace {

torch::Tensor byte_weights() {
  return torch::tensor({1, 2, 4, 8, 16, 32, 64, 128}, torch::kLong);
}

}  // namespace

torch::Tensor pack_codes(const torch::Tensor& codes, int bits) {
  if (bits < 1 || bits > 8) throw std::invalid_argument("pack_codes: bits must be 1..8");
  torch::Tensor flat = codes.flatten().to(torch::kLong);
  torch::Tensor u = bits == 1 ? flat.gt(0).to(torch::kLong) : flat + (int64_t{1} << (bits - 1));
  // Bit j of weight i lands at stream position i * bits + j.
  torch::Tensor powers = byte_weights().slice(0, 0, bits);
  torch::Tensor stream = torch::div(u.unsqueeze(1), powers, "floor").remainder(2).flatten();
  const int64_t padded = (stream.numel() + 7) / 8 * 8;
  stream = torch::constant_pad_nd(stream, {0, padded - stream.numel()}, 0).reshape({-1, 8});
  return stream.mul(byte_weights()).sum(1).to(torch::kByte);
}

torch::Tensor unpack_codes(const torch::Tensor& packed, int bits,
                           const std::vector<int64_t>& shape) {
  if (bits < 1 || bits > 8) throw std::invalid_argument("unpack_codes: bits must be 1..8");
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  if (packed.numel() * 8 < numel * bits) throw std::invalid_argument("too few packed bits");
  torch::Tensor stream =
      packed.to(torch::kLong).reshape({-1, 1}).bitwise_and(byte_weights()).ne(0).flatten();
  stream = stream.slice(0, 0, numel * bits).reshape({numel, bits}).to(torch::kLong);
  torch::Tensor u = stream.mul(byte_weights().slice(0, 0, bits)).sum(1);
  torch::Tensor codes = bits == 1 ? u.mul(2).sub(1) : u.sub(int64_t{1} << (bits - 1));
  return codes.reshape(shape);
}

}  // namespace ctmq
