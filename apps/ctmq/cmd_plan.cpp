// `ctmq plan` prints the stages a spec trains; `ctmq spec` prints the resolved spec or the
// documentation of every key.

#include <iostream>
#include <memory>

#include "cli.h"
#include "ctmq/commands/run_status.h"
#include "ctmq/plan/stage_plan.h"
#include "ctmq/spec/spec_parser.h"

namespace ctmq::cli {

void add_plan_commands(CLI::App& app, GlobalOptions& /*globals*/) {
  struct PlanFlags {
    SpecFlags spec;
    bool json = false;
  };
  auto plan = std::make_shared<PlanFlags>();
  CLI::App* plan_command = app.add_subcommand("plan", "Print the training stages of a spec");
  plan->spec.add_to(*plan_command);
  plan_command->add_flag("--json", plan->json, "Print JSON instead of a table");
  on_run(plan_command, [plan] {
    // A plan needs no data: it must work on a login node or laptop without the dataset.
    const ExperimentSpec resolved = plan->spec.resolve(/*check_paths=*/false);
    StagePlan stages = make_stage_plan(resolved);
    for (const std::string& warning : teacher_warnings(stages)) {
      std::cerr << "warning: " << warning << "\n";
    }
    // Where output_dir already holds a run: what it holds for each stage.
    const std::map<std::string, std::string> status = run_stage_status(resolved.output_dir);
    if (plan->json) {
      nlohmann::json out = plan_to_json(stages);
      if (!status.empty()) out["run"] = {{"dir", resolved.output_dir}, {"status", status}};
      print_json(out);
      return 0;
    }
    std::cout << plan_to_table(stages);
    if (!status.empty()) {
      std::cout << "\nin " << resolved.output_dir << ":\n";
      for (const Stage& stage : stages.stages) {
        const auto found = status.find(stage.id);
        std::cout << "  " << stage.id << ": " << (found == status.end() ? "pending" : found->second)
                  << "\n";
      }
    }
    return 0;
  });

  struct SpecCommandFlags {
    SpecFlags spec;
    bool doc = false;
  };
  auto spec = std::make_shared<SpecCommandFlags>();
  CLI::App* spec_command =
      app.add_subcommand("spec", "Print the resolved spec (defaults filled in) or the key table");
  spec->spec.add_to(*spec_command);
  spec_command->add_flag("--doc", spec->doc, "Print the Markdown table of every spec key");
  on_run(spec_command, [spec] {
    if (spec->doc) {
      std::cout << spec_keys_markdown();
    } else {
      print_json(spec_to_json(spec->spec.resolve(/*check_paths=*/false)));
    }
    return 0;
  });
}

}  // namespace ctmq::cli
