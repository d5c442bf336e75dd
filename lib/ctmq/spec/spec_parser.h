#pragma once
// Experiment spec: JSON text -> validated ExperimentSpec, with `--set` overrides.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctmq/spec/spec.h"

namespace ctmq {

struct SpecOptions {
  std::vector<std::string> overrides;  ///< "key.path=value" from --set, applied in order
  bool check_paths =
      true;  ///< require data.root, pretrain.checkpoint and a distill.teacher file to exist
};

/// Parses and validates spec text. `source` names the file in messages. Throws SpecError
/// listing every problem, one line each, with its JSON path.
ExperimentSpec parse_spec(const std::string& text, const std::string& source,
                          const SpecOptions& options = {});

/// Where the value at `path` ("/data/batch_size", or a path below it) came from: "--set
/// data.batch_size=abc" when an override in `overrides` gave it, else `source` (the spec file).
/// Spec problems are reported under it.
std::string spec_value_source(const std::string& path, const std::vector<std::string>& overrides,
                              const std::string& source);

/// True for "pretrain" and "c<k>-<bits>" ("c1-fp"): distill.teacher text that names a stage of
/// the plan rather than a checkpoint file.
bool looks_like_stage_id(const std::string& text);

/// Reads and parses a spec file.
ExperimentSpec load_spec(const std::string& path, const SpecOptions& options = {});

/// The embedded default spec (data/specs/fmnist-default.json, compiled in).
ExperimentSpec default_spec(const SpecOptions& options = {});
const std::string& default_spec_text();

/// Every key with its resolved value.
nlohmann::json spec_to_json(const ExperimentSpec& spec);

/// Hash of the keys that change a run's result: ties a run directory to its spec.
std::string spec_hash(const ExperimentSpec& spec);

/// Markdown table of every key (docs/spec.md is generated from it).
std::string spec_keys_markdown();

}  // namespace ctmq
