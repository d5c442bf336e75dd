#include "ctmq/spec/strict_json.h"

namespace ctmq {
namespace {

using nlohmann::json;

/// Builds the document as json::parse does, and also tracks the JSON path of the value being
/// read, so that a duplicate key or an overflowing number is reported where it is.
class StrictDomBuilder : public nlohmann::json_sax<json> {
 public:
  bool null() override { return add(json(nullptr)); }
  bool boolean(bool value) override { return add(json(value)); }
  bool number_integer(number_integer_t value) override { return add(json(value)); }
  bool number_unsigned(number_unsigned_t value) override { return add(json(value)); }
  bool number_float(number_float_t value, const string_t&) override { return add(json(value)); }
  bool string(string_t& value) override { return add(json(std::move(value))); }
  bool binary(binary_t& value) override { return add(json(std::move(value))); }
  bool start_object(std::size_t) override { return open(json::object()); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_array() override { return close(); }

  bool key(string_t& name) override {
    Open& top = open_.back();
    top.key = name;
    if (top.value->contains(name)) {
      duplicates_.push_back({value_path(), "duplicate key \"" + name +
                                               "\" (JSON keeps only one of them; give it once)"});
    }
    return true;
  }

  bool parse_error(std::size_t byte, const std::string& token,
                   const nlohmann::detail::exception& error) override {
    error_byte_ = byte;
    error_token_ = token;
    error_id_ = error.id;
    error_text_ = error.what();
    error_path_ = value_path();
    return false;
  }

  json root_;
  std::vector<JsonProblem> duplicates_;
  std::size_t error_byte_ = 0;
  std::string error_token_;
  int error_id_ = 0;
  std::string error_text_;
  std::string error_path_;

 private:
  struct Open {
    json* value;
    std::string key;  ///< the key being read, in an object
  };

  /// The path of the value about to be added: the open containers' keys and indices. An array
  /// below the innermost one already holds the open element, the innermost not yet.
  std::string value_path() const {
    std::string path;
    for (size_t i = 0; i < open_.size(); ++i) {
      const json& container = *open_[i].value;
      const bool innermost = i + 1 == open_.size();
      path += "/" + (container.is_array() ? std::to_string(container.size() - (innermost ? 0 : 1))
                                          : open_[i].key);
    }
    return path;
  }

  json* place(json value) {
    if (open_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& parent = *open_.back().value;
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    json& slot = parent[open_.back().key];
    slot = std::move(value);
    return &slot;
  }
  bool add(json value) {
    place(std::move(value));
    return true;
  }
  bool open(json container) {
    json* placed = place(std::move(container));
    open_.push_back({placed, ""});
    return true;
  }
  bool close() {
    open_.pop_back();
    return true;
  }

  std::vector<Open> open_;
};

/// Converts a byte offset into line and column for the error message.
std::string line_and_column(const std::string& text, size_t byte) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

StrictJson read_strict_json(const std::string& text) {
  StrictDomBuilder builder;
  StrictJson result;
  const bool complete = json::sax_parse(text, &builder);
  result.duplicates = std::move(builder.duplicates_);
  if (complete) {
    result.doc = std::move(builder.root_);
    return result;
  }
  // nlohmann reports the byte *after* the offending character.
  const size_t end = builder.error_byte_ > 0 ? builder.error_byte_ - 1 : 0;
  constexpr int kNumberOverflow = 406;  // nlohmann's out_of_range.406
  if (builder.error_id_ == kNumberOverflow) {
    const std::string& token = builder.error_token_;
    const size_t start = end >= token.size() ? end + 1 - token.size() : 0;
    result.error = JsonProblem{builder.error_path_, "number " + token + " is out of range (" +
                                                        line_and_column(text, start) + ")"};
    return result;
  }
  // nlohmann's text is "[json.exception...] parse error at line L, column C: <detail>".
  const std::string& what = builder.error_text_;
  auto column = what.find("column");
  auto pos = column == std::string::npos ? column : what.find(": ", column);
  std::string detail = pos == std::string::npos ? what : what.substr(pos + 2);
  result.malformed = true;
  result.error = JsonProblem{"", "malformed JSON at " + line_and_column(text, end) + ": " + detail};
  return result;
}

std::string describe_json_problems(const StrictJson& parsed, const std::string& source) {
  std::string lines;
  auto add = [&](const JsonProblem& problem) {
    lines += (lines.empty() ? "" : "\n") + source + ": " +
             (problem.path.empty() ? "" : problem.path + ": ") + problem.message;
  };
  for (const auto& duplicate : parsed.duplicates) add(duplicate);
  if (parsed.error) add(*parsed.error);
  return lines;
}

}  // namespace ctmq
