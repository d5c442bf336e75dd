#pragma once
// Reports of finished (or running) runs, read from their manifest.json.

#include <map>
#include <string>
#include <vector>

#include "ctmq/io/manifest.h"

namespace ctmq {

/// `ctmq report --run`: writes report.md and report.png into the run directory and returns the
/// stage table.
std::string report_run(const std::string& run_dir);

/// `ctmq report --runs`: one row per run (its last finished stage), with how many of its
/// stages are done; a run with stages left is marked unfinished.
std::string report_runs(const std::vector<std::string>& run_dirs);

/// Markdown table: stage, bits, epochs, status, final Top-1/Top-5, best Top-1. A finished stage
/// named in `stale` (lineage.h: id -> why) has status "stale (why)".
std::string stage_table_markdown(const Manifest& manifest,
                                 const std::map<std::string, std::string>& stale = {});

/// Draws validation Top-1 per cumulative epoch over all stages, with the stage boundaries and
/// bit depths marked, into a PNG at `path` (written atomically).
void write_accuracy_plot(const Manifest& manifest, const std::string& path);

}  // namespace ctmq
