#pragma once
// Reports of finished (or running) runs, read from their manifest.json.

#include <string>
#include <vector>

#include "ctmq/io/manifest.h"

namespace ctmq {

/// `ctmq report --run`: writes report.md and report.png into the run directory and returns the
/// stage table.
std::string report_run(const std::string& run_dir);

/// `ctmq report --runs`: one row per run (its last finished stage).
std::string report_runs(const std::vector<std::string>& run_dirs);

/// Markdown table: stage, bits, epochs, final Top-1/Top-5, best Top-1.
std::string stage_table_markdown(const Manifest& manifest);

/// Draws validation Top-1 per cumulative epoch over all stages, with the stage boundaries and
/// bit depths marked, into a PNG at `path` (written atomically).
void write_accuracy_plot(const Manifest& manifest, const std::string& path);

}  // namespace ctmq
