// `ctmq inspect`: a checkpoint's or export's metadata, per-layer bit depths and parameter
// counts; an ONNX model's graph and metadata.

#include <iostream>
#include <memory>

#include "cli.h"

namespace ctmq::cli {

void add_inspect_command(CLI::App& app, GlobalOptions& /*globals*/) {
  struct InspectFlags {
    std::string checkpoint;
    bool json = false;
  };
  auto flags = std::make_shared<InspectFlags>();
  CLI::App* command =
      app.add_subcommand("inspect", "Print a checkpoint's or exported model's metadata and layers");
  command
      ->add_option("checkpoint", flags->checkpoint,
                   "A checkpoint, a native export or an ONNX model (`ctmq export`)")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_flag("--json", flags->json, "Print JSON");
  on_run(command, [flags] {
    nlohmann::json inspected = inspect_checkpoint(flags->checkpoint);
    if (flags->json) {
      print_json(inspected);
    } else {
      std::cout << inspect_to_text(inspected);
    }
    return 0;
  });
}

}  // namespace ctmq::cli
