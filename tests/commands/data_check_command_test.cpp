// `ctmq data check` through the real binary, on ImageNet-layout trees of real JPEGs.

#include <gtest/gtest.h>

#include <string>

#include "cli/run_ctmq.h"
#include "ctmq/data/jpeg_region_decode.h"
#include "data/test_image_tree.h"
#include "support/prerequisite.h"

namespace ctmq::test {
namespace {

size_t count_of(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

TEST(DataCheckCommand, AJpegWithCorruptDataIsNamedWithLibjpegsReasonAndNothingElse) {
  CTMQ_REQUIRE(data::jpeg_region_decoding_available(), "libjpeg-turbo headers (libjpeg-dev)");
  TempDir root("data-check");
  write_jpeg(root / "train/n01/a.jpg");
  write_scrambled_jpeg(root / "train/n01/scrambled.jpg");
  write_jpeg(root / "val/n01/v.jpg");
  const auto result = run_ctmq("data check --root " + root.str());
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_NE(result.output.find("bad: " + (root / "train/n01/scrambled.jpg") +
                               ": libjpeg: Corrupt JPEG data"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("train: 1 images, 1 bad"), std::string::npos) << result.output;
  // libjpeg's warning appears once, on the file's line: no stray line naming no file.
  EXPECT_EQ(count_of(result.output, "Corrupt JPEG data"), 1u) << result.output;
  const auto json = run_ctmq("data check --json --root " + root.str());
  EXPECT_NE(json.output.find("\"reason\": \"libjpeg: Corrupt JPEG data"), std::string::npos)
      << json.output;
}

TEST(DataCheckCommand, AFolderOfAnotherFormatGetsAHintToPassFormat) {
  TempDir root("data-check-format");
  write_bytes(root / "cifar-10-batches-bin/data_batch_1.bin", {0});
  const auto result = run_ctmq("data check --root " + root.str());
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_NE(result.output.find("hint: " + root.str() + " is not in ImageNet layout"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("pass --format cifar10"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace ctmq::test
