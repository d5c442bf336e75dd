// `ctmq eval`: loss, Top-1 and Top-5 of a checkpoint or an exported model.

#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "cli.h"
#include "ctmq/core/errors.h"

namespace ctmq::cli {

void add_eval_command(CLI::App& app, GlobalOptions& globals) {
  struct EvalFlags {
    SpecFlags spec;
    EvalOptions options;
    bool json = false;
  };
  auto flags = std::make_shared<EvalFlags>();
  CLI::App* command = app.add_subcommand("eval", "Score a checkpoint (or exported model)");
  auto* source = command->add_option_group("model", "What to evaluate (one of)");
  source->add_option("--checkpoint", flags->options.checkpoint, "A checkpoint (.pt)")
      ->check(CLI::ExistingFile);
  source->add_option("--exported", flags->options.exported, "A file written by `ctmq export`")
      ->check(CLI::ExistingFile);
  source->require_option(1);
  command
      ->add_option("--engine", flags->options.engine,
                   "With --exported: float (LibTorch, the reference) or xnor (XNOR-popcount "
                   "W1A1 convolutions)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, InferenceEngine>{
          {"float", InferenceEngine::kFloat}, {"xnor", InferenceEngine::kXnor}}))
      ->default_str("float");
  flags->spec.add_to(*command);
  command->get_option("--config")
      ->description(
          "Experiment spec (JSON) whose data settings score the model; default: for a "
          "checkpoint in RUN/checkpoints/, RUN/spec.json, else the embedded Fashion-MNIST demo "
          "spec");
  command->add_option("--data", flags->options.data_root,
                      "Dataset root (instead of the spec's data.root)");
  CLI::Option* format =
      command->add_option("--format", flags->options.format, "Dataset format with --data")
          ->transform(CLI::CheckedTransformer(choice_map<DataFormat>()));
  command
      ->add_option("--split", flags->options.split,
                   "Split to score: train, val (data.val_split's held-out training images "
                   "where the spec sets it, else the dataset's own split) or test (the "
                   "dataset's own validation/test split)")
      ->transform(CLI::CheckedTransformer(choice_map<Split>()))
      ->default_str("val");
  command
      ->add_option("--limit", flags->options.limit,
                   "Score only this many images (0 = all; default: the spec's limit; "
                   "data.val_split's held-out val split is always scored whole)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--batch-size", flags->options.batch_size, "Batch size (0 = the spec's)")
      ->check(CLI::Range(0, 1000000));
  command
      ->add_option("--logits", flags->options.logits,
                   "Also write every scored image's logits to this CSV file, one line per image "
                   "in the split's order (shuffled for --split train): compare two engines' "
                   "files line by line")
      ->type_name("FILE");
  command->add_flag("--json", flags->json, "Print JSON");
  on_run(command, [flags, format, &globals] {
    flags->options.runtime = globals.runtime;
    if (flags->spec.config.empty() && flags->options.data_root.empty() &&
        !flags->options.checkpoint.empty()) {
      // A run's checkpoint sits in RUN/checkpoints/: the run's spec.json names the data and the
      // splits it was trained and validated on (data.val_split above all), which the embedded
      // demo spec would silently replace.
      const std::filesystem::path folder =
          std::filesystem::absolute(flags->options.checkpoint).parent_path();
      const std::filesystem::path run_spec = folder.parent_path() / "spec.json";
      if (folder.filename() == "checkpoints" && std::filesystem::is_regular_file(run_spec)) {
        flags->spec.config = run_spec.string();
        spdlog::info("data settings from {} (--config or --data to score other data)",
                     flags->spec.config);
      }
    }
    if (!flags->spec.config.empty() || flags->options.data_root.empty()) {
      flags->options.spec = flags->spec.resolve(/*check_paths=*/flags->options.data_root.empty());
    }
    if (!flags->options.data_root.empty() && format->count() == 0) {
      throw SpecError("--data needs --format (imagenet, fashion-mnist, cifar10 or cifar100)");
    }
    nlohmann::json result = evaluate(flags->options);
    if (flags->json) {
      print_json(result);
    } else {
      std::cout << "images " << result["images"].get<int64_t>() << "  loss "
                << result["loss"].get<double>() << "  top1 " << result["top1"].get<double>()
                << "  top5 " << result["top5"].get<double>() << std::endl;
    }
    return 0;
  });
}

}  // namespace ctmq::cli
