#pragma once
// Helpers shared by the data tests: a temporary folder and image files of every kind,
// written with OpenCV, by hand (palette PNG) or from embedded bytes (CMYK JPEG).

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "support/temp_dir.h"

namespace ctmq::test {

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

/// A colour image: BGR value `bgr` with a little structure, so that JPEG has something to code.
inline cv::Mat make_image(int width, int height, cv::Scalar bgr = {40, 120, 200}) {
  cv::Mat image(height, width, CV_8UC3, bgr);
  cv::rectangle(image, {width / 4, height / 4}, {width / 2, height / 2}, {255, 255, 255}, -1);
  return image;
}

/// Writes `image` in the format named by the extension of `path` (creating folders).
inline void write_image(const std::string& path, const cv::Mat& image,
                        const std::vector<int>& params = {}) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  if (!cv::imwrite(path, image, params)) throw std::runtime_error("cannot write " + path);
}

inline void write_jpeg(const std::string& path, int width = 64, int height = 48,
                       cv::Scalar bgr = {40, 120, 200}) {
  write_image(path, make_image(width, height, bgr), {cv::IMWRITE_JPEG_QUALITY, 90});
}

/// An 8x8 CMYK JPEG (Adobe APP14) made with PIL: Image.new("CMYK", (8, 8), (0, 255, 255, 0)),
/// pure red. OpenCV cannot write CMYK JPEGs.
inline std::vector<uint8_t> cmyk_jpeg_bytes() {
  return {0xff, 0xd8, 0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00,
          0x00, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x03, 0x02, 0x02, 0x03, 0x02, 0x02, 0x03,
          0x03, 0x03, 0x03, 0x04, 0x03, 0x03, 0x04, 0x05, 0x08, 0x05, 0x05, 0x04, 0x04, 0x05, 0x0a,
          0x07, 0x07, 0x06, 0x08, 0x0c, 0x0a, 0x0c, 0x0c, 0x0b, 0x0a, 0x0b, 0x0b, 0x0d, 0x0e, 0x12,
          0x10, 0x0d, 0x0e, 0x11, 0x0e, 0x0b, 0x0b, 0x10, 0x16, 0x10, 0x11, 0x13, 0x14, 0x15, 0x15,
          0x15, 0x0c, 0x0f, 0x17, 0x18, 0x16, 0x14, 0x18, 0x12, 0x14, 0x15, 0x14, 0xff, 0xc0, 0x00,
          0x14, 0x08, 0x00, 0x08, 0x00, 0x08, 0x04, 0x43, 0x11, 0x00, 0x4d, 0x11, 0x00, 0x59, 0x11,
          0x00, 0x4b, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x1f, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01,
          0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04,
          0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0xff, 0xc4, 0x00, 0xb5, 0x10, 0x00, 0x02, 0x01,
          0x03, 0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00, 0x00, 0x01, 0x7d, 0x01, 0x02,
          0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22,
          0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
          0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27,
          0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47,
          0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66,
          0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85,
          0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2,
          0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8,
          0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5,
          0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea,
          0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xff, 0xda, 0x00, 0x0e, 0x04,
          0x43, 0x00, 0x4d, 0x00, 0x59, 0x00, 0x4b, 0x00, 0x00, 0x3f, 0x00, 0xfd, 0x53, 0xaf, 0xca,
          0xaa, 0xfc, 0xaa, 0xaf, 0xd5, 0x3a, 0xff, 0xd9};
}

inline void append_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

inline void append_png_chunk(std::vector<uint8_t>& out, const char* type,
                             const std::vector<uint8_t>& data) {
  append_u32(out, static_cast<uint32_t>(data.size()));
  const size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  append_u32(out, static_cast<uint32_t>(crc32(0, out.data() + start, out.size() - start)));
}

/// A width x height paletted PNG (colour type 3): left half palette entry 0 (red), right half
/// entry 1 (green). OpenCV cannot write palette PNGs, so it is assembled chunk by chunk.
inline std::vector<uint8_t> palette_png_bytes(int width = 8, int height = 8) {
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  append_u32(ihdr, width);
  append_u32(ihdr, height);
  ihdr.insert(ihdr.end(), {8, 3, 0, 0, 0});  // 8 bits per index, palette, deflate, no interlace
  append_png_chunk(png, "IHDR", ihdr);
  append_png_chunk(png, "PLTE", {255, 0, 0, 0, 255, 0});
  std::vector<uint8_t> raw;
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);  // filter: none
    for (int x = 0; x < width; ++x) raw.push_back(x < width / 2 ? 0 : 1);
  }
  uLongf size = compressBound(raw.size());
  std::vector<uint8_t> deflated(size);
  compress(deflated.data(), &size, raw.data(), raw.size());
  deflated.resize(size);
  append_png_chunk(png, "IDAT", deflated);
  append_png_chunk(png, "IEND", {});
  return png;
}

/// A JPEG cut in half: no EOI marker.
inline void write_truncated_jpeg(const std::string& path) {
  std::vector<uint8_t> bytes;
  cv::imencode(".jpg", make_image(64, 48), bytes);
  bytes.resize(bytes.size() / 2);
  write_bytes(path, bytes);
}

/// A real JPEG whose entropy-coded body (after the SOS segment) is overwritten in its middle
/// half with junk: markers, size and EOI are intact, so only decoding the data finds it.
inline void write_scrambled_jpeg(const std::string& path, int width = 96, int height = 64) {
  std::vector<uint8_t> bytes;
  cv::imencode(".jpg", make_image(width, height), bytes, {cv::IMWRITE_JPEG_QUALITY, 95});
  size_t body = 0;
  for (size_t i = 2; i + 3 < bytes.size(); ++i) {
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xDA) {
      body = i + 2 + ((bytes[i + 2] << 8) | bytes[i + 3]);
      break;
    }
  }
  if (body == 0) throw std::runtime_error("no SOS marker in the encoded JPEG");
  const size_t length = bytes.size() - 2 - body;  // up to the EOI marker
  for (size_t i = body + length / 4; i < body + 3 * length / 4; ++i) {
    bytes[i] = static_cast<uint8_t>((i * 151 + 17) % 0xFF);  // never 0xFF: no stray marker
  }
  write_bytes(path, bytes);
}

/// Passes the cheap scan-time checks (JPEG magic, EOI at the end) but does not decode.
inline void write_undecodable_jpeg(const std::string& path) {
  std::vector<uint8_t> bytes = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02};
  for (int i = 0; i < 200; ++i) bytes.push_back(static_cast<uint8_t>(i * 7 % 0xFF));
  bytes.push_back(0xFF);
  bytes.push_back(0xD9);
  write_bytes(path, bytes);
}

}  // namespace ctmq::test
