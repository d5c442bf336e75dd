// `ctmq export`: the deployable model with real low-bit integer weights, in ctmq's format or as
// a standard ONNX model.

#include <map>
#include <memory>

#include "cli.h"

namespace ctmq::cli {

void add_export_command(CLI::App& app, GlobalOptions& /*globals*/) {
  struct ExportFlags {
    std::string checkpoint;
    std::string out;
    ExportFormat format = ExportFormat::kNative;
  };
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* command = app.add_subcommand(
      "export", "Write a checkpoint as a deployable model (bit-packed codes, or ONNX)");
  command->add_option("--checkpoint", flags->checkpoint, "Checkpoint to export")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--out", flags->out, "Output file (not the checkpoint itself)")->required();
  const std::map<std::string, ExportFormat> formats = {{"native", ExportFormat::kNative},
                                                       {"onnx", ExportFormat::kOnnx}};
  command
      ->add_option("--format", flags->format,
                   "native: ctmq's bit-packed file (ctmq eval --exported); onnx: a standard ONNX "
                   "model (opset 13) for onnxruntime and other runtimes")
      ->transform(CLI::CheckedTransformer(formats))
      ->default_str("native");
  on_run(command, [flags] {
    print_json(export_checkpoint(flags->checkpoint, flags->out, flags->format));
    return 0;
  });
}

}  // namespace ctmq::cli
