#pragma once
// The image transforms of torchvision's reference recipes, written straight into a batch slot:
// train = RandomResizedCrop + horizontal flip, val = Resize(shorter side) + CenterCrop, small
// datasets = zero-padded RandomCrop + flip; all end with Normalize(mean, std) in CHW RGB.

#include <cstdint>

#include <opencv2/core.hpp>

#include "ctmq/data/rng.h"
#include "ctmq/data/sample_source.h"

namespace ctmq::data {

/// A region of the full-size source image, in its pixel coordinates.
struct CropBox {
  double x = 0, y = 0, w = 0, h = 0;
};

/// torchvision.transforms.RandomResizedCrop.get_params: up to 10 tries at an area fraction in
/// [scale_lo, scale_hi] and a log-uniform aspect ratio in [ratio_lo, ratio_hi], then a
/// ratio-clamped center crop as the fallback.
CropBox random_resized_crop_box(int width, int height, SampleRng& rng, double scale_lo = 0.08,
                                double scale_hi = 1.0, double ratio_lo = 3.0 / 4.0,
                                double ratio_hi = 4.0 / 3.0);

/// The region that Resize(resize) (shorter side) followed by CenterCrop(size) keeps.
CropBox center_crop_box(int width, int height, int resize, int size);

/// The integer pixel rectangle that covers `box` in an image decoded at 1/`reduction` of the
/// full size (`decoded` pixels), clamped to it and never empty.
cv::Rect crop_roi(CropBox box, double reduction, cv::Size decoded);

/// Resizes a crop to size x size (area averaging when it shrinks more than 2x, else bilinear),
/// mirrored when `flip`.
cv::Mat resize_square(const cv::Mat& roi, int size, bool flip);

/// Writes an 8UC3 BGR image as normalised CHW RGB floats.
void write_normalized_chw(const cv::Mat& bgr, const Normalization& norm, float* out);
/// Writes an 8UC3 BGR image as CHW RGB bytes.
void write_pixels_chw(const cv::Mat& bgr, uint8_t* out);

/// For small in-memory images (uint8 CHW, 1 or 3 channels): a height x width window whose top
/// left corner is at (offset_y - padding, offset_x - padding) in the image, zeros outside it,
/// mirrored when `flip`, normalised. offset = padding is the plain, unaugmented image.
void pad_crop_flip_normalize(const uint8_t* chw, int channels, int height, int width, int padding,
                             int offset_y, int offset_x, bool flip, const Normalization& norm,
                             float* out);
/// The same window as bytes, before normalisation.
void pad_crop_flip_pixels(const uint8_t* chw, int channels, int height, int width, int padding,
                          int offset_y, int offset_x, bool flip, uint8_t* out);

}  // namespace ctmq::data
