#include "ctmq/data/val_label_file.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "ctmq/core/errors.h"

namespace ctmq::data {
namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

std::string stem(const std::string& name) {
  const auto slash = name.find_last_of('/');
  std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  const auto dot = base.rfind('.');
  return dot == std::string::npos ? base : base.substr(0, dot);
}

bool is_integer(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::unordered_map<std::string, int64_t> read_val_labels(const std::string& path,
                                                         std::vector<std::string>& classes) {
  std::ifstream in(path);
  if (!in) throw DataError("cannot read val label file " + path);
  std::vector<std::pair<std::string, std::string>> rows;  // (file, label token, line number)
  std::vector<int> line_numbers;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    std::string file, label;
    const auto comma = line.find(',');
    if (comma != std::string::npos) {
      file = trim(line.substr(0, comma));
      std::istringstream(line.substr(comma + 1)) >> label;
    } else {
      std::istringstream(line) >> file >> label;
    }
    if (file.empty() || label.empty()) {
      throw DataError(path + ":" + std::to_string(number) +
                      ": expected 'file,wnid' or 'file label'");
    }
    rows.emplace_back(file, label);
    line_numbers.push_back(number);
  }
  if (rows.empty()) throw DataError("val label file " + path + " holds no labels");

  const bool derive = classes.empty();
  std::map<std::string, int64_t> class_index;
  if (derive) {
    std::set<std::string> wnids;
    int64_t max_index = -1;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (is_integer(rows[i].second)) {
        max_index = std::max<int64_t>(max_index, std::stoll(rows[i].second));
      } else if (i > 0) {  // a non-numeric label in the first row may be a header
        wnids.insert(rows[i].second);
      }
    }
    if (!wnids.empty() && !rows.empty() && !is_integer(rows[0].second) &&
        rows[0].second.rfind('n', 0) == 0) {
      wnids.insert(rows[0].second);
    }
    classes.assign(wnids.begin(), wnids.end());
    if (classes.empty()) {
      for (int64_t c = 0; c <= max_index; ++c) classes.push_back(std::to_string(c));
    }
  }
  for (size_t c = 0; c < classes.size(); ++c) class_index[classes[c]] = static_cast<int64_t>(c);

  std::unordered_map<std::string, int64_t> labels;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& [file, token] = rows[i];
    const std::string where = path + ":" + std::to_string(line_numbers[i]);
    int64_t label = -1;
    if (is_integer(token)) {
      label = std::stoll(token);
      if (label >= static_cast<int64_t>(classes.size())) {
        throw DataError(where + ": class index " + token + " is out of range (" +
                        std::to_string(classes.size()) + " classes)");
      }
    } else if (auto it = class_index.find(token); it != class_index.end()) {
      label = it->second;
    } else if (i == 0) {
      continue;  // header line
    } else {
      throw DataError(where + ": unknown class '" + token + "' (not a folder of train/)");
    }
    labels[file] = label;
    labels[stem(file)] = label;
  }
  return labels;
}

}  // namespace ctmq::data
