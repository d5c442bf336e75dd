#include "ctmq/io/network_meta.h"

#include "ctmq/core/errors.h"

namespace ctmq {

nlohmann::json network_config_to_json(const NetworkConfig& c) {
  return {{"arch", c.arch},
          {"in_channels", c.in_channels},
          {"num_classes", c.num_classes},
          {"first_last_bits", c.first_last_bits},
          {"block", c.block},
          {"weight_quantizer", c.weight_quantizer},
          {"activation_quantizer", c.activation_quantizer},
          {"weight_granularity", c.weight_granularity}};
}

NetworkConfig network_config_from_json(const nlohmann::json& meta, const std::string& source) {
  if (!meta.contains("network") || !meta["network"].is_object()) {
    throw IoError(source + ": checkpoint metadata has no \"network\" section");
  }
  const auto& n = meta["network"];
  try {
    NetworkConfig c;
    c.arch = n.at("arch").get<std::string>();
    c.in_channels = n.at("in_channels").get<int64_t>();
    c.num_classes = n.at("num_classes").get<int64_t>();
    c.first_last_bits = n.at("first_last_bits").get<int>();
    c.block = n.at("block").get<std::string>();
    c.weight_quantizer = n.at("weight_quantizer").get<std::string>();
    c.activation_quantizer = n.at("activation_quantizer").get<std::string>();
    c.weight_granularity = n.at("weight_granularity").get<std::string>();
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw IoError(source + ": checkpoint metadata \"network\" is incomplete: " + e.what());
  }
}

}  // namespace ctmq
