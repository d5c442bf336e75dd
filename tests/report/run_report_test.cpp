// `ctmq report --runs` on run directories whose manifests are written here, stage by stage.

#include "ctmq/report/run_report.h"

#include <gtest/gtest.h>

#include <string>

#include "ctmq/io/manifest.h"
#include "ctmq/spec/spec_parser.h"
#include "support/temp_dir.h"

namespace ctmq {
namespace {

/// A run of the demo spec's plan with its first `done` stages finished.
std::string write_run(const test::TempDir& root, const std::string& dir, size_t done) {
  SpecOptions options;
  options.check_paths = false;
  options.overrides = {"name=" + dir};
  const ExperimentSpec spec = default_spec(options);
  Manifest manifest = make_manifest(spec.name, spec_hash(spec), make_stage_plan(spec));
  for (size_t i = 0; i < done && i < manifest.stages.size(); ++i) {
    StageRecord& record = manifest.stages[i];
    record.status = StageStatus::kDone;
    record.epochs_done = record.stage.epochs;
    record.final_metrics = StageMetrics{0.5, 80.0 + static_cast<double>(i), 99.0, 0.4, 85.0, 1};
  }
  const RunPaths paths{root / dir};
  save_manifest(paths, manifest);
  return paths.root;
}

TEST(ReportRuns, MarksARunWithStagesLeftUnfinished) {
  test::TempDir root("report");
  const std::string finished = write_run(root, "finished", 1000);
  const std::string halfway = write_run(root, "halfway", 2);
  const std::string fresh = write_run(root, "fresh", 0);
  const size_t stages = load_manifest(RunPaths{finished}).stages.size();
  ASSERT_GT(stages, 2u);
  const std::string all = std::to_string(stages);

  const std::string table = report_runs({finished, halfway, fresh});
  EXPECT_NE(table.find("| epochs | stages |"), std::string::npos) << table;
  const auto row = [&](const std::string& name) {
    const size_t at = table.find("| " + name + " |");
    return at == std::string::npos ? std::string() : table.substr(at, table.find('\n', at) - at);
  };
  EXPECT_NE(row("finished").find("| " + all + "/" + all + " |"), std::string::npos) << table;
  EXPECT_EQ(row("finished").find("unfinished"), std::string::npos) << table;
  EXPECT_NE(row("halfway").find("| 2/" + all + " unfinished |"), std::string::npos) << table;
  EXPECT_NE(row("fresh").find("| 0/" + all + " unfinished |"), std::string::npos) << table;
}

}  // namespace
}  // namespace ctmq
