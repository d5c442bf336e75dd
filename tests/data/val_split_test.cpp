// data.val_split on the real Fashion-MNIST files: which training images are held out, and what
// the three splits are.

#include "ctmq/data/val_split.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "ctmq/core/errors.h"
#include "ctmq/data/dataset_factory.h"
#include "ctmq/spec/spec_keys.h"
#include "support/prerequisite.h"
#include "test_image_tree.h"

namespace ctmq::data {
namespace {

bool fashion_mnist_available() {
  return std::filesystem::exists(std::string(CTMQ_FASHION_MNIST_DIR) +
                                 "/train-images-idx3-ubyte.gz");
}

DataSpec fmnist_spec(int64_t val_split) {
  DataSpec spec = spec_defaults().data;
  spec.root = CTMQ_FASHION_MNIST_DIR;
  spec.val_split = val_split;
  return spec;
}

/// The training-file index of a sample: describe() names it "ROOT (fashion-mnist train)[i]".
int64_t file_index(const SampleSource& source, int64_t i) {
  const std::string name = source.describe(i);
  return std::stoll(name.substr(name.rfind('[') + 1));
}

std::vector<float> pixels(const SampleSource& source, int64_t i, uint64_t seed) {
  std::vector<float> out(static_cast<size_t>(source.channels() * source.height() * source.width()));
  source.load(i, seed, out.data());
  return out;
}

TEST(ValSplit, HeldOutImagesAreClassBalancedDisjointAndUnaugmented) {
  CTMQ_REQUIRE(fashion_mnist_available(), "dataset-fashion-mnist");
  const DatasetSources sources = open_sources(fmnist_spec(1005));
  ASSERT_TRUE(sources.test);
  EXPECT_EQ(sources.val->size(), 1005);
  EXPECT_EQ(sources.train->size(), 60000 - 1005);
  EXPECT_EQ(sources.test->size(), 10000);
  EXPECT_NE(sources.test->describe(0).find("test"), std::string::npos);

  // 1005 = 10 * 100 + 5: classes 0-4 give one image more.
  std::vector<int64_t> per_class(10, 0);
  std::set<int64_t> held;
  for (int64_t i = 0; i < sources.val->size(); ++i) {
    ++per_class[static_cast<size_t>(sources.val->label(i))];
    EXPECT_NE(sources.val->describe(i).find("train"), std::string::npos);
    held.insert(file_index(*sources.val, i));
  }
  for (int64_t c = 0; c < 10; ++c) EXPECT_EQ(per_class[static_cast<size_t>(c)], c < 5 ? 101 : 100);
  EXPECT_EQ(held.size(), 1005u);
  for (int64_t i = 0; i < sources.train->size(); ++i) {
    ASSERT_EQ(held.count(file_index(*sources.train, i)), 0u) << "training image " << i;
  }
  // Validation images are not augmented; training images are (padded crop and flip).
  bool augmented = false;
  for (int64_t i = 0; i < 20; ++i) {
    EXPECT_EQ(pixels(*sources.val, i, 1), pixels(*sources.val, i, 2));
    augmented = augmented || pixels(*sources.train, i, 1) != pixels(*sources.train, i, 2);
  }
  EXPECT_TRUE(augmented);
}

TEST(ValSplit, ImageNetLayoutHoldsOutTrainImagesAndTestsOnTheValFolder) {
  // ImageNet users hold out training images for validation and keep the official val set as
  // the test set: real JPEGs in train/ and val/ class folders.
  test::TempDir root;
  const std::vector<std::string> classes = {"n01", "n02", "n03"};
  for (size_t c = 0; c < classes.size(); ++c) {
    const cv::Scalar colour(40.0 + 60.0 * static_cast<double>(c), 120, 200);
    for (int i = 0; i < 4; ++i) {
      test::write_jpeg(root / ("train/" + classes[c] + "/" + std::to_string(i) + ".jpg"), 48, 40,
                       colour);
    }
    for (int i = 0; i < 2; ++i) {
      test::write_jpeg(root / ("val/" + classes[c] + "/" + std::to_string(i) + ".jpg"), 48, 40,
                       colour);
    }
  }
  DataSpec spec = spec_defaults().data;
  spec.format = DataFormat::kImageNet;
  spec.root = root.path();
  spec.image_size = 32;
  spec.resize = 36;
  spec.val_split = 5;
  const DatasetSources sources = open_sources(spec);
  ASSERT_TRUE(sources.test);
  EXPECT_EQ(sources.val->size(), 5);
  EXPECT_EQ(sources.train->size(), 12 - 5);
  EXPECT_EQ(sources.test->size(), 6);
  std::vector<int64_t> per_class(3, 0);
  std::set<std::string> held;
  for (int64_t i = 0; i < sources.val->size(); ++i) {
    ++per_class[static_cast<size_t>(sources.val->label(i))];
    const std::string name = sources.val->describe(i);
    EXPECT_NE(name.find("/train/"), std::string::npos) << name;
    held.insert(name);
    // The evaluation transform (resize and centre crop), whatever the seed.
    EXPECT_EQ(pixels(*sources.val, i, 1), pixels(*sources.val, i, 2)) << name;
  }
  EXPECT_EQ(per_class, (std::vector<int64_t>{2, 2, 1}));
  for (int64_t i = 0; i < sources.train->size(); ++i) {
    EXPECT_EQ(held.count(sources.train->describe(i)), 0u) << sources.train->describe(i);
  }
  for (int64_t i = 0; i < sources.test->size(); ++i) {
    EXPECT_NE(sources.test->describe(i).find("/val/"), std::string::npos);
  }
}

TEST(ValSplit, SameImagesWhateverTheSeedAndTheLimits) {
  CTMQ_REQUIRE(fashion_mnist_available(), "dataset-fashion-mnist");
  DataSpec limited = fmnist_spec(500);
  limited.train_limit = 2000;
  limited.val_limit = 300;
  const DatasetSources a = open_sources(fmnist_spec(500));
  const DatasetSources b = open_sources(limited);
  ASSERT_EQ(b.val->size(), 500);
  for (int64_t i = 0; i < 500; ++i) EXPECT_EQ(a.val->describe(i), b.val->describe(i));
  EXPECT_EQ(b.train->size(), 2000);
  EXPECT_EQ(b.test->size(), 300);
  // The loaders are seeded by the experiment's seed; the split is not.
  const DataSplits one = open_dataset(limited, 1, 0, 1);
  const DataSplits two = open_dataset(limited, 7, 0, 1);
  EXPECT_EQ(one.val->num_samples(), 500);
  EXPECT_EQ(two.test->num_samples(), 300);
}

TEST(ValSplit, WithoutItTheDatasetSplitValidatesAndThereIsNoTestSplit) {
  CTMQ_REQUIRE(fashion_mnist_available(), "dataset-fashion-mnist");
  const DatasetSources sources = open_sources(fmnist_spec(0));
  EXPECT_FALSE(sources.test);
  EXPECT_EQ(sources.val->size(), 10000);
  EXPECT_EQ(sources.train->size(), 60000);
  EXPECT_FALSE(open_dataset(fmnist_spec(0), 1, 0, 1).test);
}

TEST(ValSplit, ASplitLeavingNoTrainingImageIsADataErrorNamingTheKey) {
  CTMQ_REQUIRE(fashion_mnist_available(), "dataset-fashion-mnist");
  try {
    open_sources(fmnist_spec(60000));
    FAIL() << "a split of every training image was accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("data.val_split"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ctmq::data
