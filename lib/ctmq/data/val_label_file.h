#pragma once
// Labels of a flat ImageNet val/ folder. Accepted line forms (',' or whitespace separated):
//   ILSVRC2012_val_00000001.JPEG,n01751748      CSV, file,wnid
//   ILSVRC2012_val_00000001,n01751748 1 2 3 4    Kaggle LOC_val_solution.csv (first token)
//   ILSVRC2012_val_00000001.JPEG 65              file and class index (sorted wnid order)
//   ILSVRC2012_val_00000001.JPEG n01751748       file and wnid
// A first line whose label is neither a known wnid nor an integer is taken as a header. Files
// are matched by full name or by name without extension.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace ctmq::data {

/// file name or stem -> label. `classes` maps wnids to indices; when it is empty, the classes
/// become the sorted wnids of the file (or 0..max for indices) and are stored into it.
/// Throws DataError naming the file and line for an unknown wnid or an out-of-range index.
std::unordered_map<std::string, int64_t> read_val_labels(const std::string& path,
                                                         std::vector<std::string>& classes);

}  // namespace ctmq::data
