#pragma once
// JSON reading for specs that refuses what nlohmann's DOM parser lets through: a key given twice
// in one object (the DOM keeps the last one silently) and a number beyond double's range
// (the DOM throws a bare out_of_range without saying where).

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ctmq {

/// A problem at one JSON path ("/data/root").
struct JsonProblem {
  std::string path;
  std::string message;
};

/// What reading found. When `error` is set the document is incomplete and must not be used.
struct StrictJson {
  nlohmann::json doc;
  std::vector<JsonProblem> duplicates;  ///< each key given twice (the last value is kept)
  /// A number out of double's range (path = where it is, message names the number and its line
  /// and column), or malformed JSON (path "", message "malformed JSON at line L, column C: ...").
  std::optional<JsonProblem> error;
  bool malformed = false;  ///< `error` is a syntax error, not a number out of range
};

/// Parses `text`; never throws.
StrictJson read_strict_json(const std::string& text);

/// "<source>: <path>: <message>" lines for every problem of `parsed`, "" when there is none.
std::string describe_json_problems(const StrictJson& parsed, const std::string& source);

}  // namespace ctmq
