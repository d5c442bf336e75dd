#include "ctmq/spec/spec_parser.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <set>
#include <sstream>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/core/strings.h"
#include "ctmq/spec/default_spec_text.h"
#include "ctmq/spec/spec_keys.h"
#include "ctmq/spec/strict_json.h"

namespace ctmq {
namespace {

using nlohmann::json;

std::string describe(const json& value) {
  std::string dumped = value.dump();
  if (dumped.size() > 40) dumped = dumped.substr(0, 37) + "...";
  return dumped;
}

/// Problems are gathered, not thrown one by one, so that a user fixes a spec in one pass. Each
/// names where the bad value came from: the spec file, or the --set that gave it.
class Problems {
 public:
  Problems(std::string source, const std::vector<std::string>& overrides)
      : source_(std::move(source)), overrides_(overrides) {}
  void add(const std::string& path, const std::string& message) {
    lines_.push_back(spec_value_source(path, overrides_, source_) + ": " + path + ": " + message);
  }
  /// A problem of the file's text itself (a key given twice), whatever --set changed after.
  void add_in_file(const std::string& path, const std::string& message) {
    lines_.push_back(source_ + ": " + path + ": " + message);
  }
  void throw_if_any() const {
    if (lines_.empty()) return;
    std::string all;
    for (const auto& line : lines_) all += (all.empty() ? "" : "\n") + line;
    throw SpecError(all);
  }

 private:
  std::string source_;
  const std::vector<std::string>& overrides_;
  std::vector<std::string> lines_;
};

/// "/data/batch_size" for "data.batch_size=64"; "" when the text has no "=".
std::string override_path(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) return "";
  std::string path = "/" + assignment.substr(0, eq);
  std::replace(path.begin(), path.end(), '.', '/');
  return path;
}

std::set<std::string> section_paths() {
  std::set<std::string> sections;
  for (const auto& key : spec_keys()) {
    for (size_t slash = key.path.find('/', 1); slash != std::string::npos;
         slash = key.path.find('/', slash + 1)) {
      sections.insert(key.path.substr(0, slash));
    }
  }
  return sections;
}

std::vector<std::string> child_names(const std::string& parent) {
  std::set<std::string> names;
  auto add_child = [&](const std::string& path) {
    if (path.rfind(parent + "/", 0) != 0) return;
    std::string rest = path.substr(parent.size() + 1);
    names.insert(rest.substr(0, rest.find('/')));
  };
  for (const auto& key : spec_keys()) add_child(key.path);
  return {names.begin(), names.end()};
}

bool in_range(const SpecKey& key, double value) {
  if (key.min && (key.min_exclusive ? value <= *key.min : value < *key.min)) return false;
  if (key.max && value > *key.max) return false;
  return true;
}

std::string range_text(const SpecKey& key) {
  std::ostringstream out;
  auto number = [](double v) {
    std::ostringstream s;
    s << v;
    return s.str();
  };
  if (key.min && key.max) {
    out << "between " << number(*key.min) << (key.min_exclusive ? " (exclusive)" : "") << " and "
        << number(*key.max);
  } else if (key.min) {
    out << (key.min_exclusive ? "greater than " : "at least ") << number(*key.min);
  } else if (key.max) {
    out << "at most " << number(*key.max);
  }
  return out.str();
}

/// "a value between 1 and 32", or the key's own words for what it allows.
std::string allowed_text(const SpecKey& key) {
  return key.allowed.empty() ? "a value " + range_text(key) : key.allowed;
}

/// An integer that fits the int64_t every integer key is stored in. nlohmann reads integers up
/// to 2^64 - 1 as unsigned; stored, 18446744073709551615 would become -1.
bool is_integer(const json& value) {
  return value.is_number_integer() &&
         !(value.is_number_unsigned() &&
           value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
}

/// "expected integer, got ..." (`expected` as the key's type says it) or, for an integer too
/// large to store, says so.
std::string not_an_integer(const json& value, const std::string& expected = "expected integer") {
  if (value.is_number_integer()) {
    return "expected an integer of at most " + std::to_string(std::numeric_limits<int64_t>::max()) +
           ", got " + value.dump();
  }
  return expected + ", got " + describe(value);
}

/// Checks one leaf against its declaration; true when it may be assigned.
bool check_leaf(const SpecKey& key, const json& value, Problems& problems) {
  const std::string expected = "expected " + key_type_name(key.type);
  switch (key.type) {
    case KeyType::kString:
    case KeyType::kOptionalString:
      if (value.is_null() && key.type == KeyType::kOptionalString) return true;
      if (!value.is_string()) {
        problems.add(key.path, expected + ", got " + describe(value));
        return false;
      }
      if (!key.choices.empty()) {
        const auto& text = value.get_ref<const std::string&>();
        if (std::find(key.choices.begin(), key.choices.end(), text) == key.choices.end()) {
          std::string hint = closest_match(text, key.choices);
          problems.add(key.path, "expected one of " + join_choices(key.choices) + ", got \"" +
                                     text + "\"" +
                                     (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
          return false;
        }
      }
      return true;
    case KeyType::kBool:
      if (!value.is_boolean()) {
        problems.add(key.path, expected + " (true or false), got " + describe(value));
        return false;
      }
      return true;
    case KeyType::kInt:
    case KeyType::kNumber:
    case KeyType::kOptionalInt:
    case KeyType::kOptionalNumber: {
      const bool optional =
          key.type == KeyType::kOptionalInt || key.type == KeyType::kOptionalNumber;
      if (value.is_null() && optional) return true;
      const bool integral = key.type == KeyType::kInt || key.type == KeyType::kOptionalInt;
      bool ok = integral ? is_integer(value) : value.is_number();
      if (!ok) {
        problems.add(key.path, integral ? not_an_integer(value, expected)
                                        : expected + ", got " + describe(value));
        return false;
      }
      double number = value.get<double>();
      if (!std::isfinite(number) || !in_range(key, number)) {
        problems.add(key.path, "expected " + allowed_text(key) + ", got " + describe(value));
        return false;
      }
      return true;
    }
    case KeyType::kIntList: {
      if (!value.is_array()) {
        problems.add(key.path, expected + ", got " + describe(value));
        return false;
      }
      bool ok = true;
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string element_path = key.path + "/" + std::to_string(i);
        if (!is_integer(value[i])) {
          problems.add(element_path, not_an_integer(value[i]));
          ok = false;
        } else if (!in_range(key, value[i].get<double>())) {
          problems.add(element_path,
                       "expected a value " + range_text(key) + ", got " + describe(value[i]));
          ok = false;
        }
      }
      return ok;
    }
  }
  return false;
}

void walk(const json& node, const std::string& path, const std::set<std::string>& sections,
          ExperimentSpec& spec, std::set<std::string>& seen, Problems& problems) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string child = path + "/" + it.key();
    if (const SpecKey* key = find_spec_key(child)) {
      seen.insert(child);
      if (check_leaf(*key, it.value(), problems)) key->set(spec, it.value());
    } else if (sections.count(child)) {
      if (!it.value().is_object()) {
        problems.add(child, "expected an object, got " + describe(it.value()));
        continue;
      }
      walk(it.value(), child, sections, spec, seen, problems);
    } else {
      std::string hint = closest_match(it.key(), child_names(path));
      problems.add(child, "unknown key" +
                              (hint.empty() ? std::string() : " (did you mean \"" + hint + "\"?)"));
    }
  }
}

void check_consistency(const ExperimentSpec& spec, const SpecOptions& options, Problems& problems) {
  const auto& bits = spec.steps.bits;
  if (bits.empty()) problems.add("/steps/bits", "expected at least one bit depth");
  for (size_t i = 1; i < bits.size(); ++i) {
    if (bits[i] >= bits[i - 1]) {
      problems.add("/steps/bits/" + std::to_string(i),
                   "the ladder must be strictly descending, but " + std::to_string(bits[i]) +
                       " follows " + std::to_string(bits[i - 1]));
    }
  }
  const int64_t first_last = spec.model.first_last_bits;
  if (first_last > 16 && first_last < kFullPrecisionBits) {
    problems.add("/model/first_last_bits",
                 "expected 1 to 16, or 32 for full precision, got " + std::to_string(first_last));
  }
  if (spec.distill.teacher.empty()) {
    problems.add("/distill/teacher", "expected none, accurate, pretrain, a stage id or a file");
  }
  if (spec.optimizer.schedule == ScheduleKind::kStep && spec.optimizer.milestones.empty()) {
    problems.add("/optimizer/milestones", "the step schedule needs at least one milestone");
  }
  if (options.check_paths) {
    std::error_code ec;
    if (!std::filesystem::is_directory(spec.data.root, ec)) {
      problems.add("/data/root", "directory \"" + spec.data.root + "\" does not exist");
    }
    if (spec.pretrain.checkpoint && !std::filesystem::is_regular_file(*spec.pretrain.checkpoint)) {
      problems.add("/pretrain/checkpoint",
                   "checkpoint \"" + *spec.pretrain.checkpoint + "\" does not exist");
    }
    // Keywords and stage ids are checked against the plan; anything else names a file.
    const std::string& teacher = spec.distill.teacher;
    const bool keyword = teacher == "none" || teacher == "accurate" || teacher == "pretrain";
    if (!keyword && !looks_like_stage_id(teacher) &&
        !std::filesystem::is_regular_file(teacher, ec)) {
      problems.add("/distill/teacher",
                   "expected none, accurate, pretrain, a full-precision stage id (c1-fp) or a "
                   "checkpoint file; \"" +
                       teacher + "\" is none of these (no such file)");
    }
  }
}

/// "data.batch_size=64" -> sets /data/batch_size in `doc`. The value is JSON when it parses
/// as JSON, else a plain string, so `--set name=abc` needs no quotes.
void apply_override(json& doc, const std::string& assignment) {
  const std::string path = override_path(assignment);
  if (path.empty()) throw SpecError("--set " + assignment + ": expected key.path=value");
  const auto eq = assignment.find('=');
  std::string dotted = assignment.substr(0, eq);
  std::string raw = assignment.substr(eq + 1);
  if (!find_spec_key(path)) {
    std::vector<std::string> known;
    for (const auto& key : spec_keys()) {
      std::string name = key.path.substr(1);
      std::replace(name.begin(), name.end(), '/', '.');
      known.push_back(name);
    }
    std::string hint = closest_match(dotted, known);
    throw SpecError("--set " + assignment + ": unknown key \"" + dotted + "\"" +
                    (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
  }
  StrictJson parsed = read_strict_json(raw);
  json value = raw;  // text that is not JSON is a plain string, so `--set name=abc` works
  // `--set name=1e999` names a run "1e999": only a number key makes an overflow an error.
  const KeyType type = find_spec_key(path)->type;
  const bool string_key = type == KeyType::kString || type == KeyType::kOptionalString;
  if (!parsed.malformed && !(parsed.error && string_key)) {
    // Paths inside the value are reported below the key's path.
    for (auto& duplicate : parsed.duplicates) duplicate.path = path + duplicate.path;
    if (parsed.error) parsed.error->path = path + parsed.error->path;
    if (!parsed.duplicates.empty() || parsed.error) {
      throw SpecError(describe_json_problems(parsed, "--set " + assignment));
    }
    value = std::move(parsed.doc);
  }
  if (!doc.is_object()) doc = json::object();
  doc[json::json_pointer(path)] = value;
}

}  // namespace

std::string spec_value_source(const std::string& path, const std::vector<std::string>& overrides,
                              const std::string& source) {
  // The last --set of the path, or of an object above it, is the one whose value is used.
  for (auto it = overrides.rbegin(); it != overrides.rend(); ++it) {
    const std::string set = override_path(*it);
    if (set.empty()) continue;
    if (path == set || path.rfind(set + "/", 0) == 0) return "--set " + *it;
  }
  return source;
}

bool looks_like_stage_id(const std::string& text) {
  if (text == "pretrain") return true;
  const size_t dash = text.find('-');
  if (text.size() < 4 || text[0] != 'c' || dash == std::string::npos || dash < 2) return false;
  for (size_t i = 1; i < dash; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return dash + 1 < text.size();
}

ExperimentSpec parse_spec(const std::string& text, const std::string& source,
                          const SpecOptions& options) {
  StrictJson parsed = read_strict_json(text);
  if (parsed.error) throw SpecError(describe_json_problems(parsed, source));
  json& doc = parsed.doc;
  if (!doc.is_object()) throw SpecError(source + ": expected a JSON object at the top level");
  for (const auto& assignment : options.overrides) apply_override(doc, assignment);

  ExperimentSpec spec = spec_defaults();
  std::set<std::string> seen;
  Problems problems(source, options.overrides);
  for (const auto& duplicate : parsed.duplicates)
    problems.add_in_file(duplicate.path, duplicate.message);
  walk(doc, "", section_paths(), spec, seen, problems);
  for (const auto& key : spec_keys()) {
    if (key.required && !seen.count(key.path)) problems.add(key.path, "required key is missing");
  }
  problems.throw_if_any();
  check_consistency(spec, options, problems);
  problems.throw_if_any();
  return spec;
}

ExperimentSpec load_spec(const std::string& path, const SpecOptions& options) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const IoError& e) {
    throw SpecError(std::string("cannot read spec: ") + e.what());
  }
  return parse_spec(text, path, options);
}

const std::string& default_spec_text() {
  static const std::string text = kDefaultSpecText;
  return text;
}

ExperimentSpec default_spec(const SpecOptions& options) {
  return parse_spec(default_spec_text(), "<embedded default spec>", options);
}

json spec_to_json(const ExperimentSpec& spec) {
  json doc = json::object();
  for (const auto& key : spec_keys()) doc[json::json_pointer(key.path)] = key.get(spec);
  return doc;
}

std::string spec_hash(const ExperimentSpec& spec) {
  json identity = json::object();
  for (const auto& key : spec_keys()) {
    if (!key.affects_result) continue;
    const json value = key.get(spec);
    if (!key.hashed_at_default && value == key.default_value) continue;
    identity[json::json_pointer(key.path)] = value;
  }
  // FNV-1a over the canonical dump: stable across platforms and runs.
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : identity.dump()) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(hash));
  return buffer;
}

std::string spec_keys_markdown() {
  std::ostringstream out;
  out << "| key | type | default | allowed | description |\n";
  out << "| --- | --- | --- | --- | --- |\n";
  for (const auto& key : spec_keys()) {
    std::string name = key.path.substr(1);
    std::replace(name.begin(), name.end(), '/', '.');
    std::string allowed = !key.allowed.empty()  ? key.allowed
                          : key.choices.empty() ? range_text(key)
                                                : join_choices(key.choices);
    std::string default_text = key.required ? "required" : "`" + key.default_value.dump() + "`";
    out << "| `" << name << "` | " << key_type_name(key.type) << " | " << default_text << " | "
        << (allowed.empty() ? "any" : allowed) << " | " << key.doc << " |\n";
  }
  return out.str();
}

}  // namespace ctmq
