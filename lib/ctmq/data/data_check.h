#pragma once
// `ctmq data check`: scan and decode every file of every split, and say what is wrong.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctmq/data/image_folder_index.h"
#include "ctmq/spec/choices.h"

namespace ctmq {

struct DataCheckSplit {
  std::string name;                       ///< train | val
  int64_t images = 0;                     ///< good images (decoded without error)
  std::vector<int64_t> images_per_class;  ///< good images per class index
  std::vector<data::BadFile> bad_files;   ///< every bad file with its reason
  /// Structural problems (a missing split, an empty class folder, a bad label file...), every
  /// one found, each naming its path; the bad files are listed even when there are some.
  std::vector<std::string> errors;
};

struct DataCheckReport {
  std::string root;
  DataFormat format = DataFormat::kImageNet;
  int64_t num_classes = 0;
  std::vector<DataCheckSplit> splits;
  /// Checked as ImageNet layout, a folder with neither train/ nor val/: which --format to pass
  /// ("" otherwise).
  std::string hint;
  /// True when no split has a structural problem and no file is bad.
  bool ok() const;
};

/// Checks every split of the dataset at `root` in `format` (`val_labels` as data.val_labels).
/// Problems are reported, not thrown. `threads` 0 = all cores. The index cache is not used.
DataCheckReport check_dataset(const std::string& root, DataFormat format,
                              const std::string& val_labels, int64_t threads = 0);

nlohmann::json to_json(const DataCheckReport& report);

/// Human-readable summary: one line per split, one per bad file.
void print_data_check(std::ostream& out, const DataCheckReport& report);

}  // namespace ctmq
