// /proc/cpuinfo as the kernel writes it, on the two kinds of CPU ctmq runs on.

#include <gtest/gtest.h>

#include "ctmq/platform/cpu_info.h"

namespace ctmq {
namespace {

TEST(CpuInfo, ReadsTheModelAndTheFlagsThatDecideKernels) {
  const CpuInfo avx512 = parse_cpu_info(
      "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14 96-Core "
      "Processor\nflags\t\t: fpu sse4_1 avx2 fma bmi2 avx512f avx512bw avx512vl avx512_bf16 "
      "avx512_vnni avx512_vpopcntdq\n\nprocessor\t: 1\nmodel name\t: ignored\n");
  EXPECT_EQ(avx512.model, "AMD EPYC 9R14 96-Core Processor");
  EXPECT_TRUE(avx512.has("avx512_vpopcntdq"));
  EXPECT_FALSE(avx512.has("avx512"));
  EXPECT_EQ(avx512.kernel_flags(),
            (std::vector<std::string>{"avx2", "fma", "avx512f", "avx512bw", "avx512vl",
                                      "avx512_vnni", "avx512_bf16", "avx512_vpopcntdq"}));

  const CpuInfo avx2 = parse_cpu_info("model name : AMD EPYC 7B13\nflags : sse4_2 avx2 fma\n");
  EXPECT_EQ(avx2.model, "AMD EPYC 7B13");
  EXPECT_EQ(avx2.kernel_flags(), (std::vector<std::string>{"avx2", "fma"}));
}

TEST(CpuInfo, TextWithoutTheFieldsIsUnknownNotAnError) {
  const CpuInfo none = parse_cpu_info("");
  EXPECT_EQ(none.model, "unknown");
  EXPECT_TRUE(none.flags.empty());
}

}  // namespace
}  // namespace ctmq
