#pragma once
// What every checkpoint of a run records about the run, and the metadata of a stage's
// checkpoint built from it.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctmq/io/manifest.h"
#include "ctmq/models/network.h"

namespace ctmq {

struct RunMeta {
  std::string experiment;
  std::string spec_hash;
  int64_t seed = 0;
  DataFormat dataset = DataFormat::kFashionMnist;
  int64_t image_size = 0;
  NetworkConfig network;
  std::string numerics = "reproducible";  ///< the numerics mode the run computes in
  nlohmann::json hardware;                ///< provenance_json() of the process that trains
  int64_t resize = 0;  ///< data.resize: the ImageNet layout's shorter side before the crop
  std::vector<std::string> class_names;  ///< in label order; empty where the data names none
};

/// The metadata of `record`'s checkpoint: format and version, the run, the network, what a
/// deployment feeds it (input size, resize, normalisation, channels, class names), and the
/// stage with its metrics.
nlohmann::json stage_checkpoint_meta(const RunMeta& run, const StageRecord& record);

}  // namespace ctmq
