#pragma once
// A checkpoint carries its NetworkConfig, so `ctmq eval`, `inspect` and `export` rebuild the
// network from the checkpoint alone.

#include <nlohmann/json.hpp>

#include "ctmq/models/network.h"

namespace ctmq {

nlohmann::json network_config_to_json(const NetworkConfig& config);

/// Throws IoError naming `source` when a field is missing.
NetworkConfig network_config_from_json(const nlohmann::json& meta, const std::string& source);

}  // namespace ctmq
