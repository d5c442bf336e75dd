#include "ctmq/commands/class_check.h"

#include "ctmq/core/errors.h"

namespace ctmq {

void check_model_classes(const ModelClasses& model, const DataClasses& data) {
  if (model.count != data.count) {
    throw SpecError(model.what + " predicts " + std::to_string(model.count) + " classes but " +
                    data.what + " has " + std::to_string(data.count) +
                    ": score it on data with the classes it was trained on");
  }
  if (model.names.size() != static_cast<size_t>(model.count) ||
      data.names.size() != static_cast<size_t>(data.count)) {
    return;  // names unknown on one side: the count is all there is to check
  }
  for (size_t i = 0; i < model.names.size(); ++i) {
    if (model.names[i] != data.names[i]) {
      throw SpecError(model.what + " was trained on other classes than " + data.what + " holds (" +
                      std::to_string(model.count) + " classes each): its class " +
                      std::to_string(i) + " is '" + model.names[i] + "', the data's is '" +
                      data.names[i] + "'");
    }
  }
}

void check_spec_classes(const ModelClasses& model, int64_t spec_num_classes) {
  if (spec_num_classes != model.count) {
    throw SpecError("/model/num_classes: the spec says " + std::to_string(spec_num_classes) +
                    " but " + model.what + " predicts " + std::to_string(model.count) +
                    " classes (eval scores the model as it was trained)");
  }
}

}  // namespace ctmq
