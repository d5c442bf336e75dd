#include "ctmq/platform/cpu_info.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ctmq {
namespace {

std::string trimmed(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const size_t last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

}  // namespace

bool CpuInfo::has(const std::string& flag) const {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

std::vector<std::string> CpuInfo::kernel_flags() const {
  std::vector<std::string> present;
  for (const char* flag : {"avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                           "avx512_bf16", "avx512_vpopcntdq", "amx_tile"}) {
    if (has(flag)) present.emplace_back(flag);
  }
  return present;
}

CpuInfo parse_cpu_info(const std::string& text) {
  CpuInfo info;
  std::istringstream lines(text);
  std::string line;
  bool have_model = false, have_flags = false;
  while (std::getline(lines, line) && !(have_model && have_flags)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trimmed(line.substr(0, colon));
    const std::string value = trimmed(line.substr(colon + 1));
    if (key == "model name" && !have_model) {
      info.model = value;
      have_model = true;
    } else if (key == "flags" && !have_flags) {
      std::istringstream words(value);
      for (std::string flag; words >> flag;) info.flags.push_back(flag);
      have_flags = true;
    }
  }
  return info;
}

const CpuInfo& cpu_info() {
  static const CpuInfo info = [] {
    std::ifstream file("/proc/cpuinfo");
    std::stringstream text;
    text << file.rdbuf();
    return parse_cpu_info(text.str());
  }();
  return info;
}

}  // namespace ctmq
