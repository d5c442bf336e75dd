#include "ctmq/commands/data_check_command.h"

#include <sstream>

#include "ctmq/data/data_check.h"

namespace ctmq {

nlohmann::json check_data(const std::string& root, DataFormat format,
                          const std::string& val_labels) {
  DataCheckReport report = check_dataset(root, format, val_labels);
  nlohmann::json json = to_json(report);
  json["ok"] = report.ok();
  std::ostringstream text;
  print_data_check(text, report);
  json["text"] = text.str();
  return json;
}

std::string data_check_to_text(const nlohmann::json& report) {
  return report.value("text", std::string());
}

}  // namespace ctmq
