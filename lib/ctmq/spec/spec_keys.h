#pragma once
// The one declaration of every spec key: JSON path, type, default, range and documentation.
// Parsing, validation, `--set`, the resolved-spec dump and docs/spec.md all read this table.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctmq/spec/spec.h"

namespace ctmq {

enum class KeyType {
  kString,
  kInt,
  kNumber,
  kBool,
  kIntList,
  kOptionalString,
  kOptionalInt,
  kOptionalNumber
};

/// One leaf of the spec.
struct SpecKey {
  std::string path;  ///< JSON pointer, e.g. "/data/batch_size"
  KeyType type;
  nlohmann::json default_value;  ///< what the key is when a spec leaves it out
  std::string doc;
  std::vector<std::string> choices;  ///< allowed strings; empty = any
  std::optional<double> min;         ///< inclusive lower bound (numbers, list elements)
  std::optional<double> max;         ///< inclusive upper bound
  bool min_exclusive = false;        ///< the bound is strict (`> min`)
  /// The values allowed, in words, where min..max says less than the whole truth (a gap the
  /// parser's consistency checks refuse); docs and range errors use it instead of the range.
  std::string allowed;
  bool required = false;
  bool affects_result = true;  ///< part of the spec hash that ties a run directory to its spec
  /// False for keys added after run directories existed: at their default they stay out of
  /// the spec hash, so runs started by an earlier ctmq still resume.
  bool hashed_at_default = true;
  std::function<nlohmann::json(const ExperimentSpec&)> get;
  std::function<void(ExperimentSpec&, const nlohmann::json&)> set;
};

/// Every key, in documentation order.
const std::vector<SpecKey>& spec_keys();

/// The key at `path`, or nullptr.
const SpecKey* find_spec_key(const std::string& path);

/// The spec with every key at its default (the declared defaults; required keys too).
ExperimentSpec spec_defaults();

/// "string", "integer", ... for messages and docs.
std::string key_type_name(KeyType type);

}  // namespace ctmq
