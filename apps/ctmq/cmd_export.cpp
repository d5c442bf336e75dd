// `ctmq export`: the deployable model with real low-bit integer weights.

#include <memory>

#include "cli.h"

namespace ctmq::cli {

void add_export_command(CLI::App& app, GlobalOptions& /*globals*/) {
  struct ExportFlags {
    std::string checkpoint;
    std::string out;
  };
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* command =
      app.add_subcommand("export", "Write integer codes, scales and BatchNorm of a checkpoint");
  command->add_option("--checkpoint", flags->checkpoint, "Checkpoint to export")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--out", flags->out, "Output file")->required();
  on_run(command, [flags] {
    print_json(export_checkpoint(flags->checkpoint, flags->out));
    return 0;
  });
}

}  // namespace ctmq::cli
