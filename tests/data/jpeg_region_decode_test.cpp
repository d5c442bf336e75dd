#include "ctmq/data/jpeg_region_decode.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ctmq/data/image_decode.h"
#include "support/prerequisite.h"
#include "test_image_tree.h"

namespace ctmq::data {
namespace {

// A photo-like image: noise over smooth colour, so that chroma upsampling at a region's edges
// sees different neighbours on each side. Odd sizes make the reduced sizes round up.
cv::Mat textured_image(int width, int height) {
  cv::Mat noise(height, width, CV_8UC3);
  cv::randu(noise, 0, 255);
  cv::GaussianBlur(noise, noise, {5, 5}, 1.5);
  cv::Mat image = test::make_image(width, height, {30, 140, 220});
  cv::addWeighted(image, 0.5, noise, 0.5, 0, image);
  return image;
}

std::vector<uint8_t> encode(const cv::Mat& image, std::vector<int> params) {
  std::vector<uint8_t> bytes;
  params.insert(params.end(), {cv::IMWRITE_JPEG_QUALITY, 90});
  EXPECT_TRUE(cv::imencode(".jpg", image, bytes, params));
  return bytes;
}

// Random regions of every reduction, edges and the whole image included, must equal
// cv::imdecode's pixels for the same region, bit for bit.
void expect_regions_equal_opencv(const std::vector<uint8_t>& bytes, const std::string& what) {
  std::mt19937 rng(7);
  for (int reduction : {1, 2, 4, 8}) {
    const cv::Mat full = decode_image(bytes, reduction);
    ASSERT_FALSE(full.empty()) << what;
    std::vector<cv::Rect> regions{{0, 0, full.cols, full.rows},
                                  {full.cols - 1, full.rows - 1, 1, 1},
                                  {0, full.rows / 2, full.cols / 3 + 1, full.rows - full.rows / 2}};
    for (int i = 0; i < 20; ++i) {
      const int w = 1 + static_cast<int>(rng() % full.cols);
      const int h = 1 + static_cast<int>(rng() % full.rows);
      regions.emplace_back(static_cast<int>(rng() % (full.cols - w + 1)),
                           static_cast<int>(rng() % (full.rows - h + 1)), w, h);
    }
    for (const cv::Rect& region : regions) {
      const cv::Mat part = decode_jpeg_region(bytes, reduction, region);
      ASSERT_FALSE(part.empty()) << what << " 1/" << reduction;
      ASSERT_EQ(part.type(), CV_8UC3);
      ASSERT_EQ(part.size(), region.size());
      EXPECT_EQ(cv::norm(part, full(region), cv::NORM_INF), 0)
          << what << " 1/" << reduction << " region " << region;
    }
  }
}

TEST(JpegRegionDecode, EqualsOpenCvForColourGreyAndProgressive) {
  CTMQ_REQUIRE(jpeg_region_decoding_available(), "libjpeg-turbo (libjpeg-dev, at configure time)");
  const cv::Mat colour = textured_image(203, 157);
  cv::Mat grey;
  cv::cvtColor(colour, grey, cv::COLOR_BGR2GRAY);
  expect_regions_equal_opencv(encode(colour, {}), "baseline 4:2:0");
  expect_regions_equal_opencv(encode(colour, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}), "progressive");
  expect_regions_equal_opencv(encode(grey, {}), "greyscale");
  expect_regions_equal_opencv(encode(textured_image(64, 48), {}), "small");
}

TEST(JpegRegionDecode, LeavesWhatItCannotDecodeToOpenCv) {
  const std::vector<uint8_t> colour = encode(textured_image(40, 30), {});
  // CMYK needs OpenCV's conversion; regions outside the image and broken bytes are refused.
  EXPECT_TRUE(decode_jpeg_region(test::cmyk_jpeg_bytes(), 1, {0, 0, 4, 4}).empty());
  EXPECT_TRUE(decode_jpeg_region(colour, 1, {30, 20, 11, 5}).empty());
  EXPECT_TRUE(decode_jpeg_region(colour, 1, {-1, 0, 5, 5}).empty());
  EXPECT_TRUE(decode_jpeg_region(colour, 2, {0, 0, 21, 15}).empty());
  std::vector<uint8_t> broken(colour.begin(), colour.begin() + 40);
  EXPECT_TRUE(decode_jpeg_region(broken, 1, {0, 0, 4, 4}).empty());
  const std::vector<uint8_t> junk = {0xFF, 0xD8, 0xFF, 0x00, 0x01, 0x02};
  EXPECT_TRUE(decode_jpeg_region(junk, 1, {0, 0, 1, 1}).empty());
  if (jpeg_region_decoding_available()) {
    EXPECT_FALSE(decode_jpeg_region(colour, 2, {0, 0, 20, 15}).empty());
  }
}

}  // namespace
}  // namespace ctmq::data
