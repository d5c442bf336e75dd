// `ctmq data check`: decode every image of every split and list the bad ones.

#include <iostream>
#include <memory>

#include "cli.h"
#include "ctmq/core/errors.h"

namespace ctmq::cli {

void add_data_commands(CLI::App& app, GlobalOptions& /*globals*/) {
  CLI::App* data = app.add_subcommand("data", "Dataset tools");
  data->require_subcommand(1);
  struct CheckFlags {
    std::string root;
    DataFormat format = DataFormat::kImageNet;
    std::string val_labels;
    bool json = false;
  };
  auto flags = std::make_shared<CheckFlags>();
  CLI::App* check =
      data->add_subcommand("check", "Scan and decode every file; print counts and bad files");
  check->add_option("--root", flags->root, "Dataset root")->required();
  check->add_option("--format", flags->format, "Dataset format")
      ->transform(CLI::CheckedTransformer(choice_map<DataFormat>()))
      ->default_str("imagenet");
  check->add_option("--val-labels", flags->val_labels, "ImageNet: label file for a flat val/");
  check->add_flag("--json", flags->json, "Print JSON");
  on_run(check, [flags] {
    nlohmann::json report = check_data(flags->root, flags->format, flags->val_labels);
    if (flags->json) {
      nlohmann::json without_text = report;
      without_text.erase("text");
      print_json(without_text);
    } else {
      std::cout << data_check_to_text(report);
    }
    return report.value("ok", false) ? 0 : static_cast<int>(kExitData);
  });
}

}  // namespace ctmq::cli
