#pragma once
// `ctmq inspect`: what a checkpoint holds. Torch-free (see runtime_options.h).

#include <string>

#include <nlohmann/json.hpp>

namespace ctmq {

/// Metadata, per-layer bit depths and parameter counts of a checkpoint.
nlohmann::json inspect_checkpoint(const std::string& path);
std::string inspect_to_text(const nlohmann::json& inspected);

}  // namespace ctmq
