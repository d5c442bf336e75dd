#include "ctmq/commands/run_status.h"

#include <filesystem>

#include "ctmq/io/lineage.h"

namespace ctmq {

std::map<std::string, std::string> run_stage_status(const std::string& run_dir) {
  const RunPaths paths{run_dir};
  std::map<std::string, std::string> status;
  if (!std::filesystem::exists(paths.manifest())) return status;
  const Manifest manifest = load_manifest(paths);
  const std::map<std::string, std::string> stale = stale_stages(manifest);
  for (const StageRecord& record : manifest.stages) {
    const std::string& id = record.stage.id;
    status[id] = stale.count(id) ? "stale (" + stale.at(id) + ")" : status_name(record.status);
  }
  return status;
}

}  // namespace ctmq
