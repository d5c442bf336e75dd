#include "cli.h"
#include "ctmq/core/errors.h"
#include "ctmq/plan/stage_plan.h"
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
  ExperimentSpec spec = config.empty() ? default_spec(options) : load_spec(config, options);
  // The plan's own checks (distill.teacher against the plan's stages) are spec errors too, and
  // name the file, or the --set that gave the value, as the parser's do.
  try {
    make_stage_plan(spec);
  } catch (const SpecError& e) {
    const std::string message = e.what();
    const std::string path = message.substr(0, message.find(':'));
    const std::string file = config.empty() ? std::string("<embedded default spec>") : config;
    throw SpecError(spec_value_source(path, overrides, file) + ": " + message);
  }
  return spec;
}

std::string SpecFlags::source() const {
  return config.empty() ? "<embedded default>" : config;
}

}  // namespace ctmq::cli
