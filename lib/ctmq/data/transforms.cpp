#include "ctmq/data/transforms.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace ctmq::data {

CropBox random_resized_crop_box(int width, int height, SampleRng& rng, double scale_lo,
                                double scale_hi, double ratio_lo, double ratio_hi) {
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(ratio_lo), log_hi = std::log(ratio_hi);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * rng.uniform(scale_lo, scale_hi);
    const double aspect = std::exp(rng.uniform(log_lo, log_hi));
    const int w = static_cast<int>(std::lround(std::sqrt(target_area * aspect)));
    const int h = static_cast<int>(std::lround(std::sqrt(target_area / aspect)));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      const int64_t y = rng.below(height - h + 1);
      const int64_t x = rng.below(width - w + 1);
      return {static_cast<double>(x), static_cast<double>(y), static_cast<double>(w),
              static_cast<double>(h)};
    }
  }
  const double in_ratio = static_cast<double>(width) / height;
  double w = width, h = height;
  if (in_ratio < ratio_lo) {
    h = std::round(w / ratio_lo);
  } else if (in_ratio > ratio_hi) {
    w = std::round(h * ratio_hi);
  }
  return {std::floor((width - w) / 2), std::floor((height - h) / 2), w, h};
}

CropBox center_crop_box(int width, int height, int resize, int size) {
  const double scale = static_cast<double>(resize) / std::min(width, height);
  const double w = std::min<double>(width, size / scale);
  const double h = std::min<double>(height, size / scale);
  return {(width - w) / 2, (height - h) / 2, w, h};
}

cv::Rect crop_roi(CropBox box, double reduction, cv::Size decoded) {
  // Box -> integer ROI of the decoded image, which is ceil(full / reduction) in size.
  const double r = reduction > 0 ? reduction : 1.0;
  int x0 = static_cast<int>(std::floor(box.x / r));
  int y0 = static_cast<int>(std::floor(box.y / r));
  int x1 = static_cast<int>(std::ceil((box.x + box.w) / r));
  int y1 = static_cast<int>(std::ceil((box.y + box.h) / r));
  x0 = std::clamp(x0, 0, decoded.width - 1);
  y0 = std::clamp(y0, 0, decoded.height - 1);
  x1 = std::clamp(x1, x0 + 1, decoded.width);
  y1 = std::clamp(y1, y0 + 1, decoded.height);
  return {x0, y0, x1 - x0, y1 - y0};
}

cv::Mat resize_square(const cv::Mat& roi, int size, bool flip) {
  cv::Mat resized;
  const bool shrink = roi.cols > 2 * size && roi.rows > 2 * size;
  cv::resize(roi, resized, cv::Size(size, size), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  if (flip) cv::flip(resized, resized, 1);
  return resized;
}

void write_normalized_chw(const cv::Mat& bgr, const Normalization& norm, float* out) {
  // Split straight into the output planes, converting and normalising in one SIMD pass.
  cv::Mat channels[3];
  cv::split(bgr, channels);
  for (int c = 0; c < 3; ++c) {
    cv::Mat plane(bgr.rows, bgr.cols, CV_32F, out + static_cast<size_t>(c) * bgr.total());
    channels[2 - c].convertTo(plane, CV_32F, 1.0 / (255.0 * norm.std[c]),
                              -norm.mean[c] / norm.std[c]);
  }
}

void write_pixels_chw(const cv::Mat& bgr, uint8_t* out) {
  // cv::split writes into Mats that wrap the output planes, in RGB order.
  std::vector<cv::Mat> planes;
  for (int c = 2; c >= 0; --c) {
    planes.emplace_back(bgr.rows, bgr.cols, CV_8U, out + static_cast<size_t>(c) * bgr.total());
  }
  cv::split(bgr, planes);
}

namespace {

// Calls emit(channel, output offset, source pixel; 0 in the padding) for every output value.
template <typename Emit>
void for_each_padded_pixel(const uint8_t* chw, int channels, int height, int width, int padding,
                           int offset_y, int offset_x, bool flip, Emit emit) {
  for (int c = 0; c < channels; ++c) {
    const uint8_t* src = chw + static_cast<size_t>(c) * height * width;
    const size_t plane = static_cast<size_t>(c) * height * width;
    for (int y = 0; y < height; ++y) {
      const int sy = y + offset_y - padding;
      for (int x = 0; x < width; ++x) {
        const int sx = (flip ? width - 1 - x : x) + offset_x - padding;
        const bool inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
        emit(c, plane + static_cast<size_t>(y) * width + x, inside ? src[sy * width + sx] : 0);
      }
    }
  }
}

}  // namespace

void pad_crop_flip_normalize(const uint8_t* chw, int channels, int height, int width, int padding,
                             int offset_y, int offset_x, bool flip, const Normalization& norm,
                             float* out) {
  float scale[3], shift[3];
  for (int c = 0; c < 3; ++c) {
    scale[c] = 1.f / (255.f * norm.std[c]);
    shift[c] = -norm.mean[c] / norm.std[c];
  }
  for_each_padded_pixel(
      chw, channels, height, width, padding, offset_y, offset_x, flip,
      [&](int c, size_t at, uint8_t v) { out[at] = static_cast<float>(v) * scale[c] + shift[c]; });
}

void pad_crop_flip_pixels(const uint8_t* chw, int channels, int height, int width, int padding,
                          int offset_y, int offset_x, bool flip, uint8_t* out) {
  for_each_padded_pixel(chw, channels, height, width, padding, offset_y, offset_x, flip,
                        [&](int, size_t at, uint8_t v) { out[at] = v; });
}

}  // namespace ctmq::data
