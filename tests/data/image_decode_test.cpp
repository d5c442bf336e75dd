#include "ctmq/data/image_decode.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "ctmq/data/sample_source.h"
#include "test_image_tree.h"

namespace ctmq::data {
namespace {

using test::TempDir;

cv::Vec3b pixel(const cv::Mat& m, int y, int x) {
  return m.at<cv::Vec3b>(y, x);
}

TEST(ImageDecode, ExtensionsAreCaseInsensitive) {
  for (const char* name : {"a.jpg", "a.JPEG", "a.Png", "a.bmp", "a.WebP", "x.y.JPG"}) {
    EXPECT_TRUE(has_image_extension(name)) << name;
  }
  for (const char* name : {"a.txt", "jpg", "a.jpg.bak", "a.gif", ".ctmq-index-train.txt"}) {
    EXPECT_FALSE(has_image_extension(name)) << name;
  }
}

TEST(ImageDecode, HeaderSizeFromJpegSofAndPngIhdr) {
  std::vector<uint8_t> jpeg, png;
  cv::imencode(".jpg", test::make_image(123, 77), jpeg);
  cv::imencode(".png", test::make_image(31, 45), png);
  const auto j = read_image_size(jpeg.data(), jpeg.size());
  ASSERT_TRUE(j);
  EXPECT_EQ(j->width, 123);
  EXPECT_EQ(j->height, 77);
  const auto p = read_image_size(png.data(), png.size());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->width, 31);
  EXPECT_EQ(p->height, 45);
  const auto c = test::cmyk_jpeg_bytes();
  ASSERT_TRUE(read_image_size(c.data(), c.size()));
  EXPECT_EQ(read_image_size(c.data(), c.size())->width, 8);
  const std::vector<uint8_t> junk = {'h', 'e', 'l', 'l', 'o'};
  EXPECT_FALSE(read_image_size(junk.data(), junk.size()));
}

TEST(ImageDecode, EveryColourTypeEndsAs8BitBgr) {
  const cv::Mat colour = test::make_image(40, 30, {10, 20, 200});
  cv::Mat gray, rgba, deep;
  cv::cvtColor(colour, gray, cv::COLOR_BGR2GRAY);
  cv::cvtColor(colour, rgba, cv::COLOR_BGR2BGRA);
  colour.convertTo(deep, CV_16UC3, 257.0);
  std::vector<std::pair<std::string, std::vector<uint8_t>>> files;
  auto encode = [&](const std::string& ext, const cv::Mat& m) {
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(cv::imencode(ext, m, bytes)) << ext;
    files.emplace_back(ext, bytes);
  };
  encode(".jpg", colour);
  encode(".jpg", gray);
  encode(".png", rgba);
  encode(".png", deep);
  encode(".png", gray);
  encode(".bmp", colour);
  encode(".webp", colour);
  files.emplace_back("cmyk", test::cmyk_jpeg_bytes());
  files.emplace_back("palette", test::palette_png_bytes());
  for (const auto& [name, bytes] : files) {
    EXPECT_EQ(check_image_bytes(bytes), "") << name;
    const cv::Mat image = decode_image(bytes);
    ASSERT_FALSE(image.empty()) << name;
    EXPECT_EQ(image.type(), CV_8UC3) << name;
  }
  // Colours survive: the 16-bit PNG is scaled down, the palette is expanded, CMYK converted.
  EXPECT_EQ(pixel(decode_image(files[3].second), 0, 0), cv::Vec3b(10, 20, 200));
  const cv::Mat palette = decode_image(test::palette_png_bytes());
  EXPECT_EQ(pixel(palette, 0, 0), cv::Vec3b(0, 0, 255));
  EXPECT_EQ(pixel(palette, 0, 7), cv::Vec3b(0, 255, 0));
  const cv::Vec3b red = pixel(decode_image(test::cmyk_jpeg_bytes()), 4, 4);
  EXPECT_GT(red[2], 200);
  EXPECT_LT(red[1], 60);
}

TEST(ImageDecode, ReducedJpegDecodingShrinksByThePowerOfTwo) {
  std::vector<uint8_t> jpeg;
  cv::imencode(".jpg", test::make_image(400, 320), jpeg);
  for (int r : {1, 2, 4, 8}) {
    const cv::Mat m = decode_image(jpeg, r);
    EXPECT_EQ(m.cols, 400 / r) << r;
    EXPECT_EQ(m.rows, 320 / r) << r;
  }
  EXPECT_EQ(jpeg_reduction(500, 375, 224, 224), 1);
  EXPECT_EQ(jpeg_reduction(500, 460, 224, 224), 2);
  EXPECT_EQ(jpeg_reduction(1000, 900, 224, 224), 4);
  EXPECT_EQ(jpeg_reduction(4000, 3000, 224, 224), 8);
  EXPECT_EQ(jpeg_reduction(100, 100, 224, 224), 1);
}

TEST(ImageDecode, TruncatedAndForeignBytesAreRecognised) {
  TempDir dir;
  test::write_truncated_jpeg(dir / "cut.jpg");
  EXPECT_EQ(check_image_bytes(test::read_bytes(dir / "cut.jpg")), "truncated JPEG (no EOI marker)");
  EXPECT_EQ(check_image_bytes({'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'}),
            "not an image (unrecognised header)");
  EXPECT_EQ(check_image_bytes({}), "empty file");
  std::vector<uint8_t> png;
  cv::imencode(".png", test::make_image(20, 20), png);
  png.resize(png.size() - 20);
  EXPECT_EQ(check_image_bytes(png), "truncated PNG (no IEND chunk)");
  // Padding after EOI is allowed.
  std::vector<uint8_t> padded;
  cv::imencode(".jpg", test::make_image(20, 20), padded);
  padded.insert(padded.end(), 16, 0);
  EXPECT_EQ(check_image_bytes(padded), "");
  test::write_undecodable_jpeg(dir / "junk.jpg");
  EXPECT_TRUE(decode_image(test::read_bytes(dir / "junk.jpg")).empty());
  EXPECT_THROW(read_file_bytes(dir / "missing.jpg"), BadSampleError);
}

}  // namespace
}  // namespace ctmq::data
