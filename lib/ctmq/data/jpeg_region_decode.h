#pragma once
// Decodes only the part of a JPEG that a crop keeps. RandomResizedCrop keeps about half of an
// image on average, yet cv::imdecode decodes all of it and then copies every row once more to
// swap RGB into BGR. libjpeg-turbo (the library OpenCV decodes JPEGs with) can skip the rows
// above the crop, stop after its last row, run the inverse DCT and colour conversion only on the
// crop's columns, and write BGR directly. The pixels are those of cv::imdecode (a test holds it).

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

namespace ctmq::data {

/// Whether this build decodes JPEG regions itself (libjpeg-turbo's headers were found).
bool jpeg_region_decoding_available();

/// The pixels of `region` (in the coordinates of the image decoded at 1/`reduction` size, with
/// reduction 1, 2, 4 or 8) as 8UC3 BGR, equal to cv::imdecode(bytes, IMREAD_REDUCED_COLOR_r)
/// cropped to `region`. Returns an empty Mat when this path cannot decode the bytes (no
/// libjpeg-turbo in this build, a CMYK JPEG, corrupt data, a region outside the image): the
/// caller then decodes with OpenCV.
cv::Mat decode_jpeg_region(const std::vector<uint8_t>& bytes, int reduction, cv::Rect region);

}  // namespace ctmq::data
