#pragma once
// What a result ran on: the CPU, the kernels oneDNN and ATen actually use, the numerics mode,
// threads, LibTorch and the device. The manifest, checkpoints, every bench JSON, `ctmq inspect`
// and `ctmq --version` carry it, so that a figure says what it depended on.

#include <string>

#include <nlohmann/json.hpp>

namespace ctmq {

/// {"cpu_model", "cpu_flags", "numerics", "aten_cpu_capability", "onednn_isa", "blas",
///  "threads", "libtorch", "device", and for CUDA "gpu": {"name", "cuda_runtime", "cudnn"}}.
/// Reading the kernel levels fixes them for the process: call after pin_numerics. Throws Error
/// where the reproducible mode is pinned but LibTorch computes with other kernels.
nlohmann::json provenance_json(const std::string& device = "cpu");

/// Adds "build" (build_info_json()) and "hardware" (provenance_json(device)) to a result.
void add_provenance(nlohmann::json& result, const std::string& device);

/// The same as lines of text, for `ctmq --version`.
std::string provenance_text();

}  // namespace ctmq
