#pragma once
// `ctmq data check`: every file of every split decoded; bad files listed. Torch-free (see
// runtime_options.h).

#include <string>

#include <nlohmann/json.hpp>

#include "ctmq/spec/choices.h"

namespace ctmq {

/// The report of `ctmq data check` as JSON (with its text under "text" and "ok").
nlohmann::json check_data(const std::string& root, DataFormat format,
                          const std::string& val_labels);
std::string data_check_to_text(const nlohmann::json& report);

}  // namespace ctmq
