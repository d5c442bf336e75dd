// `ctmq report`: report.md and report.png of a run, or one table over several runs.

#include <iostream>
#include <memory>

#include "cli.h"
#include "ctmq/report/run_report.h"

namespace ctmq::cli {

void add_report_command(CLI::App& app, GlobalOptions& /*globals*/) {
  struct ReportFlags {
    std::string run;
    std::vector<std::string> runs;
  };
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* command =
      app.add_subcommand("report", "Write report.md and report.png for a run and print its table");
  auto* which = command->add_option_group("runs", "One run, or several for a comparison table");
  which->add_option("--run", flags->run, "Run directory")->check(CLI::ExistingDirectory);
  which->add_option("--runs", flags->runs, "Several run directories")
      ->check(CLI::ExistingDirectory);
  which->require_option(1);
  on_run(command, [flags] {
    std::cout << (flags->run.empty() ? report_runs(flags->runs) : report_run(flags->run));
    return 0;
  });
}

}  // namespace ctmq::cli
