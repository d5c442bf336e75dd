#include "ctmq/data/data_check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "ctmq/core/errors.h"
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
  const DataCheckReport report = check_dataset(root.path(), "imagenet", "", 2);
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

TEST(DataCheck, MissingSplitIsReportedNotThrown) {
  TempDir root;
  test::write_jpeg(root / "train/n01/a.jpg");
  const DataCheckReport report = check_dataset(root.path(), "imagenet", "", 1);
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(report.splits[0].error.empty());
  EXPECT_NE(report.splits[1].error.find("missing split"), std::string::npos);
  EXPECT_THROW(check_dataset(root.path(), "mnist", "", 1), SpecError);
}

TEST(DataCheck, SmallDatasetHeaderErrors) {
  TempDir root;
  test::write_bytes(root / "train-images-idx3-ubyte", {0, 0, 8, 1});
  test::write_bytes(root / "train-labels-idx1-ubyte", {0, 0, 8, 1});
  const DataCheckReport report = check_dataset(root.path(), "fashion-mnist", "", 1);
  EXPECT_FALSE(report.ok());
  EXPECT_NE(report.splits[0].error.find("train-images-idx3-ubyte: not an IDX image file"),
            std::string::npos);
  EXPECT_NE(report.splits[1].error.find("missing file"), std::string::npos);
}

TEST(DataCheck, RealFashionMnistIsClean) {
  if (!fs::exists(std::string(CTMQ_FASHION_MNIST_DIR) + "/t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST is not installed";
  }
  const DataCheckReport report = check_dataset(CTMQ_FASHION_MNIST_DIR, "fashion-mnist", "", 1);
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.num_classes, 10);
  EXPECT_EQ(report.splits[0].images, 60000);
  EXPECT_EQ(report.splits[1].images, 10000);
}

}  // namespace
}  // namespace ctmq
