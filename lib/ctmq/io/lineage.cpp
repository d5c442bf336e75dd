#include "ctmq/io/lineage.h"

#include <filesystem>

#include "ctmq/core/sha256.h"

namespace ctmq {
namespace {

/// Why the checkpoint `source` no longer is what a stage recorded (`recorded`), or "".
std::string changed_source(const InitSource& source, const std::string& recorded,
                           const Manifest& manifest,
                           const std::map<std::string, std::string>& stale, const char* role) {
  const std::string name = source.ref;
  if (source.kind == InitSource::Kind::kStage) {
    if (stale.count(name)) return std::string(role) + " " + name + " is stale";
    const StageRecord* parent = manifest.find(name);
    if (parent == nullptr || parent->status != StageStatus::kDone) {
      return std::string(role) + " " + name + " is not trained";
    }
    if (!recorded.empty() && !parent->checkpoint_sha256.empty() &&
        parent->checkpoint_sha256 != recorded) {
      return std::string(role) + " " + name + " was retrained since";
    }
  } else if (source.kind == InitSource::Kind::kCheckpoint && !recorded.empty()) {
    std::error_code missing;
    if (std::filesystem::exists(name, missing) && file_sha256(name) != recorded) {
      return std::string(role) + " " + name + " changed since";
    }
  }
  return "";
}

}  // namespace

std::optional<std::string> source_sha256(const InitSource& source, const Manifest& manifest,
                                         const RunPaths& paths) {
  switch (source.kind) {
    case InitSource::Kind::kRandom:
      return std::string();
    case InitSource::Kind::kCheckpoint:
      if (!std::filesystem::exists(source.ref)) return std::nullopt;
      return file_sha256(source.ref);
    case InitSource::Kind::kStage: {
      const StageRecord* parent = manifest.find(source.ref);
      if (parent == nullptr || parent->status != StageStatus::kDone ||
          !std::filesystem::exists(paths.checkpoint(source.ref))) {
        return std::nullopt;
      }
      // Records from before lineage was kept have no digest: take the file's.
      return parent->checkpoint_sha256.empty() ? file_sha256(paths.checkpoint(source.ref))
                                               : parent->checkpoint_sha256;
    }
  }
  return std::nullopt;
}

std::map<std::string, std::string> stale_stages(const Manifest& manifest) {
  std::map<std::string, std::string> stale;
  // Plan order: every stage comes after the stages it starts from and learns from.
  for (const StageRecord& record : manifest.stages) {
    if (record.status != StageStatus::kDone) continue;
    const Stage& stage = record.stage;
    if (!record.spec_hash.empty() && record.spec_hash != manifest.spec_hash) {
      stale[stage.id] = "trained under another spec (hash " + record.spec_hash + ")";
      continue;
    }
    if (!record.numerics.empty() && !manifest.numerics.empty() &&
        record.numerics != manifest.numerics) {
      stale[stage.id] = "trained with --numerics " + record.numerics;
      continue;
    }
    std::string reason =
        changed_source(stage.init, record.init_sha256, manifest, stale, "its start");
    if (reason.empty() && stage.teacher) {
      reason = changed_source(stage.teacher->source, record.teacher_sha256, manifest, stale,
                              "its teacher");
    }
    if (!reason.empty()) stale[stage.id] = reason;
  }
  return stale;
}

void reset_stage(StageRecord& record, const Manifest& manifest, const RunPaths& paths,
                 bool digests) {
  StageRecord fresh;
  fresh.stage = record.stage;
  fresh.spec_hash = manifest.spec_hash;
  fresh.numerics = manifest.numerics;
  if (!digests) {
    record = fresh;
    return;
  }
  fresh.init_sha256 = source_sha256(record.stage.init, manifest, paths).value_or("");
  if (record.stage.teacher) {
    fresh.teacher_sha256 =
        source_sha256(record.stage.teacher->source, manifest, paths).value_or("");
  }
  record = fresh;
}

}  // namespace ctmq
