#pragma once
// Writes a trained network as a deployable file: integer weight codes and scales instead of
// float master weights. exported_model.h runs such a file; export_format.h describes it.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ctmq/models/network.h"

namespace ctmq {

/// Writes `network` at its current depths to `out_path` atomically; throws IoError naming the
/// file. Codes are taken from the weight quantizers, so ExportedModel reproduces the network's
/// eval-mode logits. `deployment` (commands/deploy_metadata.h: class names, input size, resize,
/// normalisation), where not null, is the header's "deployment" object.
void export_network(const QuantNetworkImpl& network, const NetworkConfig& config,
                    const std::string& out_path,
                    const nlohmann::json& deployment = nlohmann::json());

/// Sizes for the report: the exported file vs. the float state (every parameter and buffer).
struct ExportSizes {
  int64_t exported_bytes = 0;
  int64_t float_bytes = 0;
  double ratio() const {
    return exported_bytes > 0 ? static_cast<double>(float_bytes) / exported_bytes : 0.0;
  }
};

/// The sizes export_network would produce, without writing anything.
ExportSizes export_sizes(const QuantNetworkImpl& network, const NetworkConfig& config,
                         const nlohmann::json& deployment = nlohmann::json());

}  // namespace ctmq
