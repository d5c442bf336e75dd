#pragma once
// What a run directory holds for each stage, for `ctmq plan`. Torch-free (see runtime_options.h).

#include <map>
#include <string>

namespace ctmq {

/// Each stage's status in the run in `run_dir` by stage id: "done", "pending", "running",
/// "failed", or "stale (why)" for a finished stage that no longer descends from what it
/// recorded (io/lineage.h). Empty where `run_dir` holds no run.
std::map<std::string, std::string> run_stage_status(const std::string& run_dir);

}  // namespace ctmq
