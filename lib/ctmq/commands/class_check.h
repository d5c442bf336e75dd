#pragma once
// What `ctmq eval` checks before it scores anything: that the model predicts the classes of the
// data it is given. A model scored on data with other classes gives a meaningless Top-1 (fewer
// data classes) or LibTorch's out-of-bounds error (more); both become one SpecError naming the
// model, the data root and both counts or the first differing name. Torch-free.

#include <cstdint>
#include <string>
#include <vector>

namespace ctmq {

/// The classes a model was trained to predict.
struct ModelClasses {
  std::string what;                ///< "checkpoint PATH" or "exported model PATH"
  int64_t count = 0;               ///< its logits
  std::vector<std::string> names;  ///< in label order; empty where it records none
};

/// The classes of the data a model is scored on.
struct DataClasses {
  std::string what;                ///< the data root and its format
  int64_t count = 0;               ///< its labels
  std::vector<std::string> names;  ///< in label order; empty where unknown
};

/// Throws SpecError unless `model` and `data` have the same class count and, where both know
/// them, the same class names in the same order.
void check_model_classes(const ModelClasses& model, const DataClasses& data);

/// Throws SpecError naming /model/num_classes when the spec's class count is not the model's.
void check_spec_classes(const ModelClasses& model, int64_t spec_num_classes);

}  // namespace ctmq
