// ctmq: cyclic training of low-bit CNNs with multiple quantization steps.
// The one place where errors become an exit code (docs/cli.md lists them).

#include <spdlog/spdlog.h>

#include <iostream>
#include <map>

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
    app.exit(e);
    return kExitUsage;
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
