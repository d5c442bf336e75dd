#include "ctmq/data/image_decode.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ctmq/data/sample_source.h"

namespace ctmq::data {

ImageKind sniff_image_kind(const uint8_t* d, size_t n) {
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return ImageKind::kJpeg;
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (n >= 8 && std::memcmp(d, kPng, 8) == 0) return ImageKind::kPng;
  if (n >= 2 && d[0] == 'B' && d[1] == 'M') return ImageKind::kBmp;
  if (n >= 12 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0) {
    return ImageKind::kWebp;
  }
  return ImageKind::kUnknown;
}

bool has_image_extension(const std::string& filename) {
  const auto dot = filename.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = filename.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == "jpg" || ext == "jpeg" || ext == "png" || ext == "bmp" || ext == "webp";
}

std::optional<ImageSize> read_image_size(const uint8_t* d, size_t n) {
  switch (sniff_image_kind(d, n)) {
    case ImageKind::kPng:
      if (n < 24) return std::nullopt;
      return ImageSize{(d[16] << 24) | (d[17] << 16) | (d[18] << 8) | d[19],
                       (d[20] << 24) | (d[21] << 16) | (d[22] << 8) | d[23]};
    case ImageKind::kJpeg: {
      // Walk the marker segments up to the first SOFn (C0-CF except DHT C4, JPG C8, DAC CC).
      size_t pos = 2;
      while (pos + 4 <= n) {
        if (d[pos] != 0xFF) return std::nullopt;
        const uint8_t marker = d[pos + 1];
        if (marker == 0xFF) {  // fill byte
          ++pos;
          continue;
        }
        if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
          pos += 2;
          continue;
        }
        const size_t length = (d[pos + 2] << 8) | d[pos + 3];
        const bool sof =
            marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (sof) {
          if (pos + 9 > n) return std::nullopt;
          return ImageSize{(d[pos + 7] << 8) | d[pos + 8], (d[pos + 5] << 8) | d[pos + 6]};
        }
        if (marker == 0xDA || marker == 0xD9 || length < 2) return std::nullopt;
        pos += 2 + length;
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

bool jpeg_has_eoi(const uint8_t* tail, size_t n) {
  for (size_t i = n; i >= 2; --i) {
    if (tail[i - 2] == 0xFF && tail[i - 1] == 0xD9) return true;
  }
  return false;
}

bool png_has_iend(const uint8_t* tail, size_t n) {
  for (size_t i = n; i >= 4; --i) {
    if (std::memcmp(tail + i - 4, "IEND", 4) == 0) return true;
  }
  return false;
}

namespace {
constexpr size_t kTailWindow = 256;
}

std::string check_image_bytes(const std::vector<uint8_t>& bytes) {
  if (bytes.empty()) return "empty file";
  const ImageKind kind = sniff_image_kind(bytes.data(), bytes.size());
  const size_t window = std::min(bytes.size(), kTailWindow);
  const uint8_t* tail = bytes.data() + bytes.size() - window;
  switch (kind) {
    case ImageKind::kUnknown:
      return "not an image (unrecognised header)";
    case ImageKind::kJpeg:
      return jpeg_has_eoi(tail, window) ? "" : "truncated JPEG (no EOI marker)";
    case ImageKind::kPng:
      return png_has_iend(tail, window) ? "" : "truncated PNG (no IEND chunk)";
    default:
      return "";
  }
}

int jpeg_reduction(double region_w, double region_h, int target_w, int target_h) {
  int reduction = 1;
  for (int r : {2, 4, 8}) {
    if (region_w / r >= target_w && region_h / r >= target_h) reduction = r;
  }
  return reduction;
}

cv::Mat decode_image(const std::vector<uint8_t>& bytes, int reduction) {
  int flags = cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION;
  if (reduction == 2) flags = cv::IMREAD_REDUCED_COLOR_2 | cv::IMREAD_IGNORE_ORIENTATION;
  if (reduction == 4) flags = cv::IMREAD_REDUCED_COLOR_4 | cv::IMREAD_IGNORE_ORIENTATION;
  if (reduction == 8) flags = cv::IMREAD_REDUCED_COLOR_8 | cv::IMREAD_IGNORE_ORIENTATION;
  cv::Mat image;
  try {
    const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1,
                      const_cast<uint8_t*>(bytes.data()));
    image = cv::imdecode(raw, flags);
  } catch (const cv::Exception&) {
    return cv::Mat();
  }
  if (image.empty()) return image;
  // IMREAD_COLOR already yields 8UC3; these cover decoders that do not honour it.
  if (image.depth() == CV_16U) image.convertTo(image, CV_8U, 1.0 / 257.0);
  if (image.channels() == 1) cv::cvtColor(image, image, cv::COLOR_GRAY2BGR);
  if (image.channels() == 4) cv::cvtColor(image, image, cv::COLOR_BGRA2BGR);
  return image;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr)
    throw BadSampleError(path, std::string("unreadable: ") + std::strerror(errno));
  std::vector<uint8_t> bytes;
  if (std::fseek(file, 0, SEEK_END) == 0) {
    const long size = std::ftell(file);
    if (size > 0) bytes.resize(static_cast<size_t>(size));
    std::rewind(file);
  }
  const size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), file);
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed || got != bytes.size()) throw BadSampleError(path, "read error");
  return bytes;
}

}  // namespace ctmq::data
