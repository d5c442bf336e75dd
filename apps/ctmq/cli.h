#pragma once
// Shared pieces of the CLI: global flags, the spec flags every training command takes, and the
// registry of subcommands. Each cmd_<name>.cpp adds one subcommand.

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ctmq/commands/bench_command.h"
#include "ctmq/commands/data_check_command.h"
#include "ctmq/commands/eval_command.h"
#include "ctmq/commands/export_command.h"
#include "ctmq/commands/inspect_command.h"
#include "ctmq/commands/runtime_options.h"
#include "ctmq/spec/spec.h"
#include "ctmq/train/experiment.h"

namespace ctmq::cli {

struct GlobalOptions {
  RuntimeOptions runtime;
  std::string log_level = "info";
  std::string log_file;
};

/// --config and --set, resolved into a spec (the embedded default when --config is absent).
struct SpecFlags {
  std::string config;
  std::vector<std::string> overrides;
  void add_to(CLI::App& command, bool config_required = false);
  ExperimentSpec resolve(bool check_paths = true) const;
  std::string source() const;
};

/// A parsed subcommand's action; returns the process exit code.
using Action = std::function<int()>;

/// Registers `action` to run when `command` was the one given on the command line.
void on_run(CLI::App* command, Action action);

void add_train_commands(CLI::App& app, GlobalOptions& globals);
void add_plan_commands(CLI::App& app, GlobalOptions& globals);
void add_eval_command(CLI::App& app, GlobalOptions& globals);
void add_inspect_command(CLI::App& app, GlobalOptions& globals);
void add_data_commands(CLI::App& app, GlobalOptions& globals);
void add_export_command(CLI::App& app, GlobalOptions& globals);
void add_bench_commands(CLI::App& app, GlobalOptions& globals);
void add_report_command(CLI::App& app, GlobalOptions& globals);

/// CLI11's name -> value map of a spec choice, for CLI::CheckedTransformer.
template <typename E>
std::map<std::string, E> choice_map() {
  std::map<std::string, E> map;
  for (const auto& [value, name] : choice_table<E>()) map.emplace(name, value);
  return map;
}

/// Prints JSON to stdout, indented.
void print_json(const nlohmann::json& value);

}  // namespace ctmq::cli
