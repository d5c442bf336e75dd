// ctmq: cyclic training of low-bit CNNs with multiple quantization steps.
// The one place where errors become an exit code (docs/cli.md lists them).

#include <spdlog/spdlog.h>

#include <iostream>
#include <map>
#include <regex>

#include "cli.h"
#include "ctmq/core/build_info.h"
#include "ctmq/core/errors.h"
#include "ctmq/core/logging.h"
#include "ctmq/platform/provenance.h"

namespace ctmq::cli {
namespace {

std::map<CLI::App*, Action>& actions() {
  static std::map<CLI::App*, Action> registered;
  return registered;
}

/// The deepest subcommand that was given, e.g. `bench train` rather than `bench`.
CLI::App* selected_command(CLI::App* app) {
  for (CLI::App* sub : app->get_subcommands()) {
    if (sub->parsed()) return selected_command(sub);
  }
  return app;
}

/// "ctmq eval" for the deepest subcommand given so far (CLI11 marks them while parsing).
std::string command_path(CLI::App* app) {
  std::string path = "ctmq";
  for (CLI::App* command = app; command != nullptr;) {
    CLI::App* next = nullptr;
    for (CLI::App* sub : command->get_subcommands()) {
      if (sub->parsed()) next = sub;
    }
    if (next != nullptr) path += " " + next->get_name();
    command = next;
  }
  return path;
}

/// CLI11's message for a refused flag, made readable where CLI11 spells out its internals: a
/// choice's name-to-value table, or the largest double as the bound of a non-negative number.
std::string usage_message(const CLI::ParseError& error) {
  std::string message = error.what();
  static const std::regex choice(R"((.*)Check (.*) value in \{([^}]*)\} OR \{[^}]*\} FAILED)");
  std::smatch match;
  if (std::regex_match(message, match, choice)) {
    std::string names;
    const std::string table = match[3];
    for (size_t at = 0; at < table.size();) {
      const size_t comma = std::min(table.find(',', at), table.size());
      const std::string entry = table.substr(at, comma - at);
      names += (names.empty() ? "" : ", ") + entry.substr(0, entry.find("->"));
      at = comma + 1;
    }
    return match[1].str() + "\"" + match[2].str() + "\" is not one of " + names;
  }
  static const std::regex unbounded(
      R"((.*)Value (\S+) not in range (-?[0-9]+)(\.0+)? to [0-9]{300,}(\.0+)?)");
  if (std::regex_match(message, match, unbounded)) {
    return match[1].str() + "expected at least " + match[3].str() + ", got " + match[2].str();
  }
  return message;
}

int run(int argc, char** argv) {
  CLI::App app{"ctmq: cyclic training of low-bit CNNs with multiple quantization steps (CTMQ)"};
  app.require_subcommand(1);
  GlobalOptions globals;
  app.add_option("--threads", globals.runtime.threads, "LibTorch intra-op threads (0 = all cores)")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  app.add_option("--device", globals.runtime.device, "Device to train and evaluate on")
      ->transform(CLI::CheckedTransformer(cli::choice_map<DeviceKind>()))
      ->default_str("auto");
  app.add_option("--numerics", globals.runtime.numerics,
                 "reproducible: the same bits on every x86-64 CPU with AVX2 (kernels capped at "
                 "AVX2; deterministic CUDA); native: the machine's fastest kernels. Default: a "
                 "training spec's train.numerics, else reproducible")
      ->transform(CLI::CheckedTransformer(cli::choice_map<NumericsMode>()));
  // Defined after --numerics, whose value it reads: CLI11 runs flag callbacks in that order.
  app.set_version_flag("--version", [&globals] {
    apply_runtime_options(globals.runtime);
    return build_info_text() + "\n" + provenance_text();
  });
  app.add_option("--log-level", globals.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.add_option("--log-file", globals.log_file, "Also write the log to this file");
  app.fallthrough();

  add_train_commands(app, globals);
  add_plan_commands(app, globals);
  add_eval_command(app, globals);
  add_inspect_command(app, globals);
  add_data_commands(app, globals);
  add_export_command(app, globals);
  add_bench_commands(app, globals);
  add_report_command(app, globals);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A usage error is an error like any other: one line, ctmq's prefix, exit code 2.
    std::string message = usage_message(e);
    const std::vector<std::string> extra = app.remaining();
    if (!app.get_subcommands().empty() || extra.empty()) {
      message += " (see " + command_path(&app) + " --help)";
    } else {  // `ctmq frobnicate`: CLI11 says only that a subcommand is required
      std::string names;
      for (const CLI::App* sub : app.get_subcommands({})) {
        names += (names.empty() ? "" : ", ") + sub->get_name();
      }
      message = "unknown command \"" + extra.front() + "\"; the commands are " + names;
    }
    throw SpecError(message);
  }
  configure_logging(globals.log_level, globals.log_file);
  CLI::App* command = selected_command(&app);
  auto found = actions().find(command);
  if (found == actions().end()) {
    std::cerr << command->help();
    return kExitUsage;
  }
  apply_runtime_options(globals.runtime);
  return found->second();
}

}  // namespace

void on_run(CLI::App* command, Action action) {
  actions()[command] = std::move(action);
}

void print_json(const nlohmann::json& value) {
  std::cout << value.dump(2) << std::endl;
}

}  // namespace ctmq::cli

int main(int argc, char** argv) {
  try {
    return ctmq::cli::run(argc, argv);
  } catch (const ctmq::Error& e) {
    std::cerr << "ctmq: error: " << e.what() << std::endl;
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "ctmq: error: " << e.what() << std::endl;
    return ctmq::kExitFailure;
  }
}
