#pragma once
// `ctmq export`: the deployable integer model of a checkpoint. Torch-free (see
// runtime_options.h).

#include <string>

#include <nlohmann/json.hpp>

namespace ctmq {

/// Writes the deployable integer model of a checkpoint; returns sizes and the ratio.
nlohmann::json export_checkpoint(const std::string& checkpoint, const std::string& out);

}  // namespace ctmq
