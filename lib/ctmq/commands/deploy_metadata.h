#pragma once
// What a deployer needs to feed an exported model correctly, from a checkpoint's metadata: the
// input's normalisation, the class count and names, the stage. Written into an ONNX model's
// metadata_props by `ctmq export --format onnx`.

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctmq/models/network.h"

namespace ctmq {

/// Key/value pairs (values are plain text or JSON text) for a checkpoint with metadata `meta`.
std::vector<std::pair<std::string, std::string>> deploy_metadata(const nlohmann::json& meta,
                                                                 const NetworkConfig& config);

}  // namespace ctmq
