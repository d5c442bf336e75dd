#pragma once
// Image bytes -> 8-bit 3-channel pixels. Everything ends as 8UC3 (BGR, OpenCV's order; the
// transforms swap to RGB while normalising): grayscale, CMYK and paletted images, alpha and
// 16-bit PNGs included. JPEGs can be decoded at 1/2, 1/4 or 1/8 size by libjpeg's DCT scaling,
// which is several times cheaper than decoding in full and shrinking afterwards.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace ctmq::data {

enum class ImageKind { kUnknown, kJpeg, kPng, kBmp, kWebp };

/// The format named by the first bytes (at least 12 are needed to recognise WEBP).
ImageKind sniff_image_kind(const uint8_t* data, size_t size);

/// Whether a file name ends in .jpg .jpeg .png .bmp or .webp, in any letter case.
bool has_image_extension(const std::string& filename);

struct ImageSize {
  int width = 0;
  int height = 0;
};

/// Width and height from a JPEG SOF marker or a PNG IHDR chunk, without decoding.
std::optional<ImageSize> read_image_size(const uint8_t* data, size_t size);

/// Whether the last bytes of a JPEG hold the EOI marker (0xFFD9). A truncated JPEG has none,
/// and libjpeg would "decode" it anyway, filling the missing rows with grey. Trailing padding
/// after EOI is allowed: 0xFF 0xD9 cannot occur inside entropy-coded data (0xFF is stuffed).
bool jpeg_has_eoi(const uint8_t* tail, size_t size);

/// Whether the last bytes of a PNG hold the IEND chunk type.
bool png_has_iend(const uint8_t* tail, size_t size);

/// "" when the bytes look like a complete image, else the reason (unknown format, truncated).
std::string check_image_bytes(const std::vector<uint8_t>& bytes);

/// The largest libjpeg reduction (1, 2, 4 or 8) that keeps a `region_w` x `region_h` region
/// at least `target_w` x `target_h` pixels, so the final resize still shrinks or keeps size.
int jpeg_reduction(double region_w, double region_h, int target_w, int target_h);

/// Decodes to 8UC3 BGR at 1/`reduction` size (JPEG only; other formats ignore it). EXIF
/// orientation is ignored, as PIL (and so torchvision's ImageFolder) ignores it. Returns an
/// empty Mat when the bytes do not decode.
cv::Mat decode_image(const std::vector<uint8_t>& bytes, int reduction = 1);

/// The whole file; throws BadSampleError naming it when it cannot be read.
std::vector<uint8_t> read_file_bytes(const std::string& path);

}  // namespace ctmq::data
