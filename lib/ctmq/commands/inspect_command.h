#pragma once
// `ctmq inspect`: what a checkpoint, a native export or an ONNX model holds. Torch-free (see
// runtime_options.h).

#include <string>

#include <nlohmann/json.hpp>

namespace ctmq {

/// Metadata, per-layer bit depths and parameter counts of a checkpoint ("kind": "checkpoint")
/// or a native export ("export": its header's network, bits and deployment); the ONNX graph's
/// inputs, outputs, node count and metadata_props of an ONNX model ("onnx", where ctmq was
/// built with ONNX). The kind is read from the file itself, not its name. Throws IoError
/// naming the file when it is none of these.
nlohmann::json inspect_checkpoint(const std::string& path);
std::string inspect_to_text(const nlohmann::json& inspected);

}  // namespace ctmq
