#pragma once
// Finds JPEGs whose entropy-coded data is damaged. libjpeg decodes such a file "successfully":
// it warns (to stderr, naming no file), fills what it cannot read with grey or garbage and
// returns an image, so neither cv::imdecode nor a check of the markers notices.

#include <cstdint>
#include <string>
#include <vector>

namespace ctmq::data {

/// Reads every coefficient of a JPEG with libjpeg and returns libjpeg's first complaint about
/// corrupt data as a reason ("libjpeg: Corrupt JPEG data: bad Huffman code"), with the number of
/// such warnings when there are several. Returns "" when the data reads cleanly, when libjpeg
/// fails outright (the caller's decode reports that) and in builds without libjpeg-turbo.
std::string jpeg_data_problem(const std::vector<uint8_t>& bytes);

}  // namespace ctmq::data
