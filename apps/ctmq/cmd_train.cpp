// `ctmq train`, and the phases on their own: `pretrain`, `steps`, `cycle`.

#include <memory>

#include "cli.h"

namespace ctmq::cli {
namespace {

struct TrainFlags {
  SpecFlags spec;
  TrainOptions options;
};

CLI::App* add_training_command(CLI::App& app, GlobalOptions& globals, const std::string& name,
                               const std::string& description, PhaseFilter phases) {
  auto flags = std::make_shared<TrainFlags>();
  flags->options.phases = phases;
  CLI::App* command = app.add_subcommand(name, description);
  flags->spec.add_to(*command);
  command->add_flag("--resume", flags->options.require_resume,
                    "Continue the run in output_dir (also the default when it exists); "
                    "fails if there is nothing to resume");
  command->add_flag("--force", flags->options.force,
                    "Reuse a run directory that was made by a different spec");
  command
      ->add_option("--dist-backend", flags->options.dist_backend,
                   "Process-group backend for multi-process runs")
      ->transform(CLI::CheckedTransformer(choice_map<DistBackend>()))
      ->default_str("auto");
  command
      ->add_option("--dist-timeout", flags->options.dist_timeout_seconds,
                   "Seconds a collective may wait for the other processes before the run "
                   "fails (a dead rank stops the others within this time)")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  if (phases == PhaseFilter::kSteps || phases == PhaseFilter::kCycle) {
    command
        ->add_option("--from", flags->options.from_checkpoint,
                     "Initialise the phase's first stage from this checkpoint")
        ->check(CLI::ExistingFile);
  }
  if (phases == PhaseFilter::kCycle) {
    command->add_option("--cycle", flags->options.cycle, "Run only this cycle (0 = all)")
        ->check(CLI::Range(0, 1000000))
        ->capture_default_str();
  }
  on_run(command, [flags, &globals] {
    flags->options.runtime = globals.runtime;
    flags->options.spec_source = flags->spec.source();
    train_experiment(flags->spec.resolve(), flags->options);
    return 0;
  });
  return command;
}

}  // namespace

void add_train_commands(CLI::App& app, GlobalOptions& globals) {
  add_training_command(app, globals, "train",
                       "Run the whole CTMQ plan: pretraining, the quantization steps and the "
                       "cycles; a checkpoint per stage",
                       PhaseFilter::kAll);
  add_training_command(app, globals, "pretrain", "Run only the full-precision pretraining",
                       PhaseFilter::kPretrain);
  add_training_command(app, globals, "steps",
                       "Run only the quantization-step phase (cycle 0: 4 -> 3 -> 2 -> 1 bits)",
                       PhaseFilter::kSteps);
  add_training_command(app, globals, "cycle",
                       "Run only the cyclic phase (accurate model, then the ladder again)",
                       PhaseFilter::kCycle);
}

}  // namespace ctmq::cli
