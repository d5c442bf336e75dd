#include "ctmq/data/data_check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "ctmq/core/errors.h"
#include "ctmq/data/image_decode.h"
#include "ctmq/data/jpeg_region_decode.h"
#include "support/prerequisite.h"
#include "test_image_tree.h"

namespace fs = std::filesystem;

namespace ctmq {
namespace {

using test::TempDir;

TEST(DataCheck, ReportsCountsAndEveryBadFileWithItsReason) {
  TempDir root;
  test::write_jpeg(root / "train/n01/a.jpg");
  test::write_jpeg(root / "train/n01/b.jpg");
  test::write_jpeg(root / "train/n02/c.jpg");
  test::write_truncated_jpeg(root / "train/n02/cut.jpg");
  test::write_undecodable_jpeg(root / "train/n02/junk.jpg");
  test::write_jpeg(root / "val/n02/v.jpg");
  const DataCheckReport report = check_dataset(root.path(), DataFormat::kImageNet, "", 2);
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.num_classes, 2);
  ASSERT_EQ(report.splits.size(), 2u);
  const auto& train = report.splits[0];
  EXPECT_EQ(train.images, 3);
  EXPECT_EQ(train.images_per_class, (std::vector<int64_t>{2, 1}));
  ASSERT_EQ(train.bad_files.size(), 2u);
  EXPECT_EQ(fs::path(train.bad_files[0].path).filename(), "cut.jpg");
  EXPECT_EQ(train.bad_files[0].reason, "truncated JPEG (no EOI marker)");
  EXPECT_EQ(fs::path(train.bad_files[1].path).filename(), "junk.jpg");
  EXPECT_EQ(train.bad_files[1].reason, "cannot be decoded");
  EXPECT_EQ(report.splits[1].images, 1);
  EXPECT_EQ(report.splits[1].images_per_class, (std::vector<int64_t>{0, 1}));

  const auto json = to_json(report);
  EXPECT_EQ(json["num_classes"], 2);
  EXPECT_EQ(json["ok"], false);
  EXPECT_EQ(json["splits"][0]["bad_files"][1]["reason"], "cannot be decoded");
  std::ostringstream text;
  print_data_check(text, report);
  EXPECT_NE(text.str().find("junk.jpg: cannot be decoded"), std::string::npos) << text.str();
}

TEST(DataCheck, AJpegWithCorruptDataIsBadWithLibjpegsReason) {
  CTMQ_REQUIRE(data::jpeg_region_decoding_available(), "libjpeg-turbo headers (libjpeg-dev)");
  TempDir root;
  test::write_jpeg(root / "train/n01/a.jpg");
  test::write_scrambled_jpeg(root / "train/n01/scrambled.jpg");
  test::write_jpeg(root / "val/n01/v.jpg");
  // OpenCV decodes it without an error: only libjpeg's warnings tell.
  EXPECT_FALSE(data::decode_image(test::read_bytes(root / "train/n01/scrambled.jpg")).empty());
  const DataCheckReport report = check_dataset(root.path(), DataFormat::kImageNet, "", 1);
  EXPECT_FALSE(report.ok());
  const auto& train = report.splits[0];
  EXPECT_EQ(train.images, 1);
  ASSERT_EQ(train.bad_files.size(), 1u);
  EXPECT_EQ(fs::path(train.bad_files[0].path).filename(), "scrambled.jpg");
  EXPECT_EQ(train.bad_files[0].reason.rfind("libjpeg: Corrupt JPEG data", 0), 0u)
      << train.bad_files[0].reason;
  // The clean files (and a CMYK one, which libjpeg reads without a warning) are good.
  test::write_bytes(root / "train/n01/cmyk.jpg", test::cmyk_jpeg_bytes());
  EXPECT_EQ(check_dataset(root.path(), DataFormat::kImageNet, "", 1).splits[0].images, 2);
}

TEST(DataCheck, AFolderNotInImageNetLayoutGetsAFormatHint) {
  TempDir root;
  test::write_bytes(root / "train-images-idx3-ubyte.gz", {0x1f, 0x8b});
  DataCheckReport report = check_dataset(root.path(), DataFormat::kImageNet, "", 1);
  EXPECT_NE(report.hint.find("not in ImageNet layout"), std::string::npos) << report.hint;
  EXPECT_NE(report.hint.find("pass --format fashion-mnist"), std::string::npos) << report.hint;
  std::ostringstream text;
  print_data_check(text, report);
  EXPECT_NE(text.str().find("hint: "), std::string::npos) << text.str();
  EXPECT_EQ(to_json(report)["hint"], report.hint);

  TempDir other;
  test::write_bytes(other / "data_batch_1.bin", {0});
  EXPECT_NE(check_dataset(other.path(), DataFormat::kImageNet, "", 1).hint.find("--format cifar10"),
            std::string::npos);
  fs::remove(other / "data_batch_1.bin");
  EXPECT_NE(check_dataset(other.path(), DataFormat::kImageNet, "", 1).hint.find("pass --format"),
            std::string::npos);
  // An ImageNet tree with a problem gets none.
  test::write_jpeg(other / "train/n01/a.jpg");
  EXPECT_EQ(check_dataset(other.path(), DataFormat::kImageNet, "", 1).hint, "");
}

TEST(DataCheck, MissingSplitIsReportedNotThrown) {
  TempDir root;
  test::write_jpeg(root / "train/n01/a.jpg");
  const DataCheckReport report = check_dataset(root.path(), DataFormat::kImageNet, "", 1);
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(report.splits[0].errors.empty());
  ASSERT_EQ(report.splits[1].errors.size(), 1u);
  EXPECT_NE(report.splits[1].errors[0].find("missing split"), std::string::npos);
}

TEST(DataCheck, StructuralProblemsHideNoBadFileOfAnySplit) {
  TempDir root;
  test::write_jpeg(root / "train/n01/a.jpg");
  fs::create_directories(root / "train/n02");              // empty class folder
  test::write_truncated_jpeg(root / "train/n03/cut.jpg");  // a class whose only image is bad
  test::write_undecodable_jpeg(root / "train/n01/junk.jpg");
  test::write_jpeg(root / "val/n01/v.jpg");
  test::write_jpeg(root / "val/n09/stray.jpg");  // not a class of train/
  test::write_bytes(root / "val/n01/empty.jpg", {});
  const DataCheckReport report = check_dataset(root.path(), DataFormat::kImageNet, "", 2);
  EXPECT_FALSE(report.ok());
  ASSERT_EQ(report.splits.size(), 2u);
  const auto& train = report.splits[0];
  ASSERT_EQ(train.errors.size(), 2u);
  EXPECT_NE(train.errors[0].find("empty class folder " + fs::canonical(root.path()).string() +
                                 "/train/n02"),
            std::string::npos)
      << train.errors[0];
  EXPECT_NE(train.errors[1].find("train/n03 (all of its images are bad)"), std::string::npos)
      << train.errors[1];
  ASSERT_EQ(train.bad_files.size(), 2u);
  EXPECT_EQ(fs::path(train.bad_files[0].path).filename(), "cut.jpg");
  EXPECT_EQ(fs::path(train.bad_files[1].path).filename(), "junk.jpg");
  EXPECT_EQ(train.images, 1);
  const auto& val = report.splits[1];
  ASSERT_EQ(val.errors.size(), 1u);
  EXPECT_NE(val.errors[0].find("val/n09 is not a class of train/"), std::string::npos);
  ASSERT_EQ(val.bad_files.size(), 1u);
  EXPECT_EQ(val.bad_files[0].reason, "empty file");
  EXPECT_EQ(val.images, 1);

  std::ostringstream text;
  print_data_check(text, report);
  EXPECT_NE(text.str().find("train: ERROR empty class folder"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("val: ERROR class folder"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("empty.jpg: empty file"), std::string::npos) << text.str();
  EXPECT_EQ(to_json(report)["splits"][0]["errors"].size(), 2u);
}

TEST(DataCheck, FlatValWithoutLabelsStillHasItsFilesChecked) {
  TempDir root;
  test::write_jpeg(root / "train/n01/a.jpg");
  test::write_jpeg(root / "val/v1.jpg");
  test::write_truncated_jpeg(root / "val/v2.jpg");
  const DataCheckReport report = check_dataset(root.path(), DataFormat::kImageNet, "", 1);
  const auto& val = report.splits[1];
  ASSERT_EQ(val.errors.size(), 1u);
  EXPECT_NE(val.errors[0].find("name its label file in data.val_labels"), std::string::npos);
  ASSERT_EQ(val.bad_files.size(), 1u);
  EXPECT_EQ(fs::path(val.bad_files[0].path).filename(), "v2.jpg");
  EXPECT_FALSE(report.ok());
}

TEST(DataCheck, SmallDatasetHeaderErrors) {
  TempDir root;
  test::write_bytes(root / "train-images-idx3-ubyte", {0, 0, 8, 1});
  test::write_bytes(root / "train-labels-idx1-ubyte", {0, 0, 8, 1});
  const DataCheckReport report = check_dataset(root.path(), DataFormat::kFashionMnist, "", 1);
  EXPECT_FALSE(report.ok());
  ASSERT_EQ(report.splits[0].errors.size(), 1u);
  EXPECT_NE(report.splits[0].errors[0].find("train-images-idx3-ubyte: not an IDX image file"),
            std::string::npos);
  ASSERT_EQ(report.splits[1].errors.size(), 1u);
  EXPECT_NE(report.splits[1].errors[0].find("missing file"), std::string::npos);
}

TEST(DataCheck, RealFashionMnistIsClean) {
  CTMQ_REQUIRE(fs::exists(std::string(CTMQ_FASHION_MNIST_DIR) + "/t10k-images-idx3-ubyte.gz"),
               "dataset-fashion-mnist (" CTMQ_FASHION_MNIST_DIR ")");
  const DataCheckReport report =
      check_dataset(CTMQ_FASHION_MNIST_DIR, DataFormat::kFashionMnist, "", 1);
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.num_classes, 10);
  EXPECT_EQ(report.splits[0].images, 60000);
  EXPECT_EQ(report.splits[1].images, 10000);
}

}  // namespace
}  // namespace ctmq
