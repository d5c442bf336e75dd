#include "ctmq/platform/provenance.h"

#include <dlfcn.h>
#include <link.h>
#include <torch/torch.h>

#include <ATen/Version.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include <filesystem>
#include <sstream>

#include "ctmq/core/build_info.h"
#include "ctmq/core/errors.h"
#include "ctmq/platform/cpu_info.h"
#include "ctmq/platform/numerics.h"

namespace ctmq {
namespace {

/// ATen's kernel level ("AVX2", "AVX512", "DEFAULT"): its configuration text is the one place
/// every LibTorch version exports it.
std::string aten_cpu_capability() {
  const std::string config = at::show_config();
  const std::string label = "CPU capability usage: ";
  const size_t at = config.find(label);
  if (at == std::string::npos) return "unknown";
  const size_t start = at + label.size();
  return config.substr(start, config.find('\n', start) - start);
}

/// oneDNN's level, where its C API is visible (Debian links libdnnl; official archives may
/// hide the symbols). The common values are the same in oneDNN 2 and 3.
std::string onednn_isa() {
  using GetIsa = int (*)();
  auto get = reinterpret_cast<GetIsa>(dlsym(RTLD_DEFAULT, "dnnl_get_effective_cpu_isa"));
  if (get == nullptr) return "unknown";
  switch (get()) {
    case 0x1:
      return "sse41";
    case 0x3:
      return "avx";
    case 0x7:
      return "avx2";
    case 0x27:
      return "avx512_core";
    case 0x67:
      return "avx512_core_vnni";
    case 0xe7:
      return "avx512_core_bf16";
    default: {
      std::ostringstream hex;
      hex << "isa 0x" << std::hex << get();
      return hex.str();
    }
  }
}

/// The BLAS library LibTorch's matrix products run on (reference BLAS and OpenBLAS pick their
/// kernels differently), as the file the dynamic loader resolved.
std::string loaded_blas() {
  std::string found = "unknown";
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        const std::string name = info->dlpi_name ? info->dlpi_name : "";
        const std::string file = std::filesystem::path(name).filename().string();
        if (file.find("blas") == std::string::npos || file.find("cublas") != std::string::npos) {
          return 0;
        }
        std::error_code error;
        const auto resolved = std::filesystem::canonical(name, error);
        *static_cast<std::string*>(out) = error ? name : resolved.string();
        return 1;
      },
      &found);
  return found;
}

nlohmann::json gpu_json(const std::string& device) {
  const at::CUDAHooksInterface& cuda = at::detail::getCUDAHooks();
  nlohmann::json gpu = {{"cuda_runtime", cuda.versionCUDART()},
                        {"cudnn", cuda.hasCuDNN() ? cuda.versionCuDNN() : 0}};
  // The driver API names the device without CUDA headers, so CPU builds compile this too.
  using Init = int (*)(unsigned);
  using GetDevice = int (*)(int*, int);
  using GetName = int (*)(char*, int, int);
  void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
  if (driver == nullptr) driver = dlopen("libcuda.so.1", RTLD_LAZY);
  std::string name = "unknown";
  if (driver != nullptr) {
    auto init = reinterpret_cast<Init>(dlsym(driver, "cuInit"));
    auto get_device = reinterpret_cast<GetDevice>(dlsym(driver, "cuDeviceGet"));
    auto get_name = reinterpret_cast<GetName>(dlsym(driver, "cuDeviceGetName"));
    const size_t colon = device.find(':');
    const int index = colon == std::string::npos ? 0 : std::stoi(device.substr(colon + 1));
    int handle = 0;
    char text[256] = {};
    if (init && get_device && get_name && init(0) == 0 && get_device(&handle, index) == 0 &&
        get_name(text, sizeof(text), handle) == 0) {
      name = text;
    }
  }
  gpu["name"] = name;
  return gpu;
}

}  // namespace

nlohmann::json provenance_json(const std::string& device) {
  const CpuInfo& cpu = cpu_info();
  const std::string aten = aten_cpu_capability();
  const std::string onednn = onednn_isa();
  const NumericsMode mode = pinned_numerics();
  if (mode == NumericsMode::kReproducible &&
      (aten != "AVX2" || (onednn != "avx2" && onednn != "unknown"))) {
    throw Error("the reproducible numerics mode is not in effect: ATen computes with " + aten +
                " and oneDNN with " + onednn +
                " kernels (LibTorch computed before the mode was pinned)");
  }
  nlohmann::json record = {{"cpu_model", cpu.model},
                           {"cpu_flags", cpu.kernel_flags()},
                           {"numerics", choice_name(mode)},
                           {"aten_cpu_capability", aten},
                           {"onednn_isa", onednn},
                           {"blas", loaded_blas()},
                           {"threads", at::get_num_threads()},
                           {"libtorch", build_info().libtorch_version},
                           {"device", device}};
  if (device.rfind("cuda", 0) == 0) record["gpu"] = gpu_json(device);
  return record;
}

void add_provenance(nlohmann::json& result, const std::string& device) {
  result["build"] = build_info_json();
  result["hardware"] = provenance_json(device);
}

std::string provenance_text() {
  const nlohmann::json record = provenance_json();
  std::string flags;
  for (const auto& flag : record.at("cpu_flags")) {
    flags += (flags.empty() ? "" : " ") + flag.get<std::string>();
  }
  return "CPU " + record.at("cpu_model").get<std::string>() + " (" + flags + ")" + "\nnumerics " +
         record.at("numerics").get<std::string>() + ": ATen " +
         record.at("aten_cpu_capability").get<std::string>() + ", oneDNN " +
         record.at("onednn_isa").get<std::string>() + ", BLAS " +
         record.at("blas").get<std::string>() + "\nthreads " +
         std::to_string(record.at("threads").get<int>());
}

}  // namespace ctmq
