#pragma once
// Which weights each stage of a run descends from, and whether that still holds.
//
// A stage records, when it starts training, the spec hash it trains under and the SHA-256 of
// the checkpoints it starts from and learns from; a finished stage records its own. A finished
// stage is stale when any of that no longer matches: its spec is not the run's, an ancestor was
// retrained (another digest) or is stale itself. `train` retrains stale stages; `report` and
// `plan` show them.

#include <map>
#include <optional>
#include <string>

#include "ctmq/io/manifest.h"

namespace ctmq {

/// The SHA-256 of the checkpoint `source` names (a stage's, from its record, or a file's), ""
/// for random weights; nullopt where it does not exist yet.
std::optional<std::string> source_sha256(const InitSource& source, const Manifest& manifest,
                                         const RunPaths& paths);

/// Why each finished stage of `manifest` is stale, by stage id; absent: not stale. Stages of
/// older manifests without lineage are taken as they are.
std::map<std::string, std::string> stale_stages(const Manifest& manifest);

/// Starts `record` afresh under the run's spec: pending, no metrics, and (with `digests`: the
/// process that writes the run) the lineage of the checkpoints it starts from and learns from
/// as they are now.
void reset_stage(StageRecord& record, const Manifest& manifest, const RunPaths& paths,
                 bool digests);

}  // namespace ctmq
