#include "cli.h"
#include "ctmq/spec/spec_parser.h"

namespace ctmq::cli {

void SpecFlags::add_to(CLI::App& command, bool config_required) {
  auto* option = command.add_option(
      "--config,-c", config,
      config_required ? "Experiment spec (JSON)"
                      : "Experiment spec (JSON); default: the embedded Fashion-MNIST demo spec");
  if (config_required) option->required();
  command
      .add_option("--set", overrides,
                  "Override a spec key, e.g. --set steps.bits=[4,2,1] (repeatable)")
      ->allow_extra_args(false);
}

ExperimentSpec SpecFlags::resolve(bool check_paths) const {
  SpecOptions options;
  options.overrides = overrides;
  options.check_paths = check_paths;
  return config.empty() ? default_spec(options) : load_spec(config, options);
}

std::string SpecFlags::source() const {
  return config.empty() ? "<embedded default>" : config;
}

}  // namespace ctmq::cli
