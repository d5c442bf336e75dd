#pragma once
// What a deployer needs to feed an exported model correctly, from a checkpoint's metadata: the
// input's size, resize and normalisation, its channels, the class count and names, the stage.
// Written into the native export's header ("deployment") by `ctmq export` and into an ONNX
// model's metadata_props by `ctmq export --format onnx`.

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctmq/models/network.h"

namespace ctmq {

/// The deployment description of a checkpoint with metadata `meta`: dataset, num_classes,
/// channels, image_size, resize (ImageNet layout), normalization {mean, std}, class_names and
/// a preprocessing sentence. Checkpoints written before ctmq recorded class names and resize
/// fall back to what the dataset fixes (the built-in datasets' names; no resize, which the
/// preprocessing sentence then gives as data.resize's default).
nlohmann::json deployment_json(const nlohmann::json& meta, const NetworkConfig& config);

/// Key/value pairs (values are plain text or JSON text) for a checkpoint with metadata `meta`:
/// the stage's keys under "ctmq.", then deployment_json's fields (normalization as
/// normalization.mean and normalization.std).
std::vector<std::pair<std::string, std::string>> deploy_metadata(const nlohmann::json& meta,
                                                                 const NetworkConfig& config);

}  // namespace ctmq
