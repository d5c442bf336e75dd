// pack_codes / unpack_codes: b bits per weight, LSB first, at every depth 1..8.

#include "ctmq/io/bit_packing.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>

namespace ctmq {
namespace {

TEST(BitPacking, RoundTripsEveryDepthAtItsSize) {
  torch::manual_seed(3);
  for (int bits = 1; bits <= 8; ++bits) {
    for (int64_t n : {1, 7, 8, 9, 1000, 4609}) {
      const int64_t half = int64_t{1} << (bits - 1);
      torch::Tensor codes = bits == 1 ? torch::randint(0, 2, {n}, torch::kLong).mul(2).sub(1)
                                      : torch::randint(-half, half, {n}, torch::kLong);
      torch::Tensor packed = pack_codes(codes, bits);
      EXPECT_EQ(packed.scalar_type(), torch::kByte);
      EXPECT_EQ(packed.numel(), (n * bits + 7) / 8) << bits << " bits, " << n;
      EXPECT_TRUE(torch::equal(unpack_codes(packed, bits, {n}), codes)) << bits << " bits";
    }
  }
}

TEST(BitPacking, LayoutIsLsbFirst) {
  // 2 bits: codes -2, -1, 0, 1 are 0, 1, 2, 3; the stream 00 10 01 11 (LSB first) is 0xE4.
  torch::Tensor packed = pack_codes(torch::tensor({-2, -1, 0, 1}, torch::kLong), 2);
  ASSERT_EQ(packed.numel(), 1);
  EXPECT_EQ(packed[0].item<int>(), 0xE4);
  // 1 bit: +1 is a set bit.
  EXPECT_EQ(pack_codes(torch::tensor({1, -1, -1, 1}, torch::kLong), 1)[0].item<int>(), 0x9);
  // Shapes come back.
  torch::Tensor codes = torch::randint(-4, 4, {3, 2, 3, 3}, torch::kLong);
  EXPECT_TRUE(torch::equal(unpack_codes(pack_codes(codes, 3), 3, {3, 2, 3, 3}), codes));
}

TEST(BitPacking, TooFewBytesThrow) {
  torch::Tensor packed = pack_codes(torch::zeros({16}, torch::kLong), 4);
  EXPECT_THROW(unpack_codes(packed, 4, {17}), std::invalid_argument);
  EXPECT_THROW(pack_codes(packed, 9), std::invalid_argument);
}

}  // namespace
}  // namespace ctmq
