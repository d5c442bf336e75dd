#pragma once
// `ctmq eval`: a checkpoint or an exported model scored on a split. Torch-free (see
// runtime_options.h).

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "ctmq/commands/runtime_options.h"
#include "ctmq/spec/spec.h"

namespace ctmq {

/// What runs an exported model: LibTorch in float (the reference), or the XNOR-popcount engine
/// for its W1A1 convolutions (docs/engine.md).
enum class InferenceEngine { kFloat, kXnor };

struct EvalOptions {
  RuntimeOptions runtime;
  std::string checkpoint;                            ///< a ctmq checkpoint, or
  std::string exported;                              ///< a file written by `ctmq export`
  InferenceEngine engine = InferenceEngine::kFloat;  ///< for `exported`
  std::optional<ExperimentSpec> spec;                ///< data from a spec, or
  std::string data_root;                             ///< data from --data/--format
  DataFormat format = DataFormat::kFashionMnist;
  Split split = Split::kVal;
  int64_t limit = -1;      ///< -1 = the spec's limit; 0 = all
  int64_t batch_size = 0;  ///< 0 = the spec's
  int64_t workers = -1;    ///< -1 = the spec's
  std::string logits;      ///< where not empty: every image's logits, CSV (write_logits_csv)
};

/// Loss, Top-1, Top-5 and image count of a checkpoint or exported model on a split.
nlohmann::json evaluate(const EvalOptions& options);

}  // namespace ctmq
