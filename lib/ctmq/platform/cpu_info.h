#pragma once
// The CPU a process runs on, as the kernel reports it: its model and the instruction-set
// extensions that decide which kernels oneDNN, ATen and the XNOR engine pick. Torch-free.

#include <string>
#include <vector>

namespace ctmq {

struct CpuInfo {
  std::string model = "unknown";   ///< "AMD EPYC 9R14", from /proc/cpuinfo
  std::vector<std::string> flags;  ///< every flag /proc/cpuinfo lists, as it spells them

  bool has(const std::string& flag) const;
  /// The flags that decide kernels (avx2, fma, avx512f, avx512bw, avx512vl, avx512_vnni,
  /// avx512_bf16, avx512_vpopcntdq, amx_tile), in that order, where the CPU has them.
  std::vector<std::string> kernel_flags() const;
};

/// This machine's CPU, read once.
const CpuInfo& cpu_info();

/// Parses the text of /proc/cpuinfo (its first processor's entry).
CpuInfo parse_cpu_info(const std::string& text);

}  // namespace ctmq
