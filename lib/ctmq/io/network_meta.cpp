#include "ctmq/io/network_meta.h"

#include "ctmq/core/errors.h"

namespace ctmq {
namespace {

template <typename E>
E named_choice(const nlohmann::json& network, const char* field, const std::string& source) {
  const std::string name = network.at(field).get<std::string>();
  std::optional<E> value = parse_choice<E>(name);
  if (!value) {
    throw IoError(source + ": checkpoint metadata network." + field + " is \"" + name +
                  "\", not one this ctmq knows");
  }
  return *value;
}

}  // namespace

nlohmann::json network_config_to_json(const NetworkConfig& c) {
  return {{"arch", choice_name(c.arch)},
          {"in_channels", c.in_channels},
          {"num_classes", c.num_classes},
          {"first_last_bits", c.first_last_bits},
          {"block", choice_name(c.block)},
          {"weight_quantizer", choice_name(c.weight_quantizer)},
          {"activation_quantizer", choice_name(c.activation_quantizer)},
          {"weight_granularity", choice_name(c.weight_granularity)}};
}

NetworkConfig network_config_from_json(const nlohmann::json& meta, const std::string& source) {
  if (!meta.contains("network") || !meta["network"].is_object()) {
    throw IoError(source + ": checkpoint metadata has no \"network\" section");
  }
  const auto& n = meta["network"];
  try {
    NetworkConfig c;
    c.arch = named_choice<Arch>(n, "arch", source);
    c.in_channels = n.at("in_channels").get<int64_t>();
    c.num_classes = n.at("num_classes").get<int64_t>();
    c.first_last_bits = n.at("first_last_bits").get<int>();
    c.block = named_choice<BlockKind>(n, "block", source);
    c.weight_quantizer = named_choice<WeightMethod>(n, "weight_quantizer", source);
    c.activation_quantizer = named_choice<ActivationMethod>(n, "activation_quantizer", source);
    c.weight_granularity = named_choice<Granularity>(n, "weight_granularity", source);
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw IoError(source + ": checkpoint metadata \"network\" is incomplete: " + e.what());
  }
}

}  // namespace ctmq
