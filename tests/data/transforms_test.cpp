#include "ctmq/data/transforms.h"

#include <gtest/gtest.h>

#include <vector>

namespace ctmq::data {
namespace {

TEST(Transforms, RandomResizedCropStaysInsideAndRepeatsForASeed) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SampleRng a(seed), b(seed);
    const CropBox box = random_resized_crop_box(500, 375, a);
    const CropBox again = random_resized_crop_box(500, 375, b);
    EXPECT_EQ(box.x, again.x);
    EXPECT_EQ(box.w, again.w);
    EXPECT_GE(box.x, 0);
    EXPECT_GE(box.y, 0);
    EXPECT_LE(box.x + box.w, 500);
    EXPECT_LE(box.y + box.h, 375);
    const double area = box.w * box.h / (500.0 * 375.0);
    EXPECT_GE(area, 0.07);
    EXPECT_LE(area, 1.0);
  }
}

TEST(Transforms, CenterCropBoxMatchesResizeThenCrop) {
  const CropBox box = center_crop_box(500, 375, 256, 224);
  EXPECT_NEAR(box.h, 224.0 * 375 / 256, 1e-9);
  EXPECT_NEAR(box.w, box.h, 1e-9);
  EXPECT_NEAR(box.x + box.w / 2, 250, 1e-9);
  EXPECT_NEAR(box.y + box.h / 2, 187.5, 1e-9);
}

TEST(Transforms, NormaliseSwapsToRgbAndFlips) {
  cv::Mat bgr(4, 4, CV_8UC3, cv::Scalar(0, 0, 0));
  bgr.at<cv::Vec3b>(0, 0) = {255, 0, 51};  // B=255, R=51
  Normalization norm{{0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};
  std::vector<float> out(3 * 4 * 4);
  // The loader's path: the crop's pixel rectangle, resized, written as normalised CHW RGB.
  const cv::Rect roi = crop_roi({0, 0, 4, 4}, 1.0, bgr.size());
  write_normalized_chw(resize_square(bgr(roi), 4, false), norm, out.data());
  EXPECT_NEAR(out[0], (51 / 255.f - 0.5f) / 0.5f, 1e-6);  // R plane, (0, 0)
  EXPECT_NEAR(out[2 * 16], 1.0f, 1e-6);                   // B plane
  EXPECT_NEAR(out[1], -1.0f, 1e-6);
  write_normalized_chw(resize_square(bgr(roi), 4, true), norm, out.data());
  EXPECT_NEAR(out[3], (51 / 255.f - 0.5f) / 0.5f, 1e-6);  // mirrored to x = 3
}

TEST(Transforms, PaddedCropShiftsAndZeroFills) {
  const std::vector<uint8_t> image = {10, 20, 30, 40};                   // 1 channel, 2x2
  Normalization identity{{0, 0, 0}, {1.f / 255, 1.f / 255, 1.f / 255}};  // out = pixel value
  std::vector<float> out(4);
  pad_crop_flip_normalize(image.data(), 1, 2, 2, 1, 1, 1, false, identity, out.data());
  EXPECT_EQ(out, (std::vector<float>{10, 20, 30, 40}));
  pad_crop_flip_normalize(image.data(), 1, 2, 2, 1, 0, 0, false, identity, out.data());
  EXPECT_EQ(out, (std::vector<float>{0, 0, 0, 10}));
  pad_crop_flip_normalize(image.data(), 1, 2, 2, 1, 1, 1, true, identity, out.data());
  EXPECT_EQ(out, (std::vector<float>{20, 10, 40, 30}));
}

}  // namespace
}  // namespace ctmq::data
