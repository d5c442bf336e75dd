#include "ctmq/data/small_datasets.h"
#include "ctmq/spec/spec_keys.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <vector>

#include "ctmq/core/errors.h"
#include "ctmq/data/dataset_factory.h"
#include "support/prerequisite.h"
#include "test_image_tree.h"

namespace fs = std::filesystem;

namespace ctmq::data {
namespace {

using test::TempDir;

std::vector<uint8_t> idx_images(uint32_t n, uint32_t rows, uint32_t cols, uint32_t magic = 0x803) {
  std::vector<uint8_t> out;
  test::append_u32(out, magic);
  test::append_u32(out, n);
  test::append_u32(out, rows);
  test::append_u32(out, cols);
  for (uint32_t i = 0; i < n * rows * cols; ++i) out.push_back(static_cast<uint8_t>(i));
  return out;
}

std::vector<uint8_t> idx_labels(std::vector<uint8_t> labels, uint32_t magic = 0x801) {
  std::vector<uint8_t> out;
  test::append_u32(out, magic);
  test::append_u32(out, static_cast<uint32_t>(labels.size()));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Idx, ReadsPlainAndGzippedFiles) {
  TempDir dir;
  test::write_bytes(dir / "train-images-idx3-ubyte", idx_images(3, 2, 2));
  write_gzip(dir / "train-labels-idx1-ubyte.gz", idx_labels({1, 9, 0}));
  const auto set = read_fashion_mnist(dir.path(), true);
  EXPECT_EQ(set.images.sizes(), (std::vector<int64_t>{3, 1, 2, 2}));
  EXPECT_EQ(set.images.dtype(), torch::kUInt8);
  EXPECT_EQ(set.labels[1].item<int64_t>(), 9);
  EXPECT_EQ(set.images[2][0][1][1].item<uint8_t>(), 11);
}

TEST(Idx, HeaderSizeAndLabelErrorsNameTheFile) {
  TempDir dir;
  const std::string images = dir / "i", labels = dir / "l";
  test::write_bytes(labels, idx_labels({1, 2, 3}));
  test::write_bytes(images, idx_images(3, 2, 2, 0x802));
  EXPECT_NE(error_of([&] { read_idx(images, labels, 10); }).find(images + ": not an IDX image"),
            std::string::npos);
  auto short_images = idx_images(3, 2, 2);
  short_images.pop_back();
  test::write_bytes(images, short_images);
  EXPECT_NE(error_of([&] { read_idx(images, labels, 10); }).find("does not match its header"),
            std::string::npos);
  test::write_bytes(images, idx_images(2, 2, 2));
  EXPECT_NE(error_of([&] { read_idx(images, labels, 10); }).find("holds 3 labels"),
            std::string::npos);
  test::write_bytes(images, idx_images(3, 2, 2));
  test::write_bytes(labels, idx_labels({1, 12, 3}));
  EXPECT_NE(error_of([&] { read_idx(images, labels, 10); }).find(labels + ": label 12"),
            std::string::npos);
  test::write_bytes(labels, idx_labels({1, 2, 3}, 0x803));
  EXPECT_NE(error_of([&] { read_idx(images, labels, 10); }).find("not an IDX label file"),
            std::string::npos);
  // A gzip file cut short.
  write_gzip(dir / "big.gz", idx_images(50, 28, 28));
  auto gz = test::read_bytes(dir / "big.gz");
  gz.resize(gz.size() / 2);
  test::write_bytes(dir / "big.gz", gz);
  EXPECT_NE(error_of([&] { read_maybe_gzip(dir / "big.gz"); }).find("gzip"), std::string::npos);
  EXPECT_NE(error_of([&] { read_fashion_mnist(dir / "nowhere", false); }).find("missing file"),
            std::string::npos);
}

std::vector<uint8_t> cifar_records(int n, int label_bytes, uint8_t label) {
  std::vector<uint8_t> out;
  for (int r = 0; r < n; ++r) {
    for (int b = 0; b < label_bytes; ++b) out.push_back(b + 1 == label_bytes ? label : 3);
    for (int i = 0; i < 3072; ++i) out.push_back(static_cast<uint8_t>(r));
  }
  return out;
}

TEST(Cifar, ReadsBinaryBatchesAndChecksThem) {
  TempDir dir;
  for (int b = 1; b <= 5; ++b) {
    test::write_bytes(dir / ("cifar-10-batches-bin/data_batch_" + std::to_string(b) + ".bin"),
                      cifar_records(2, 1, static_cast<uint8_t>(b)));
  }
  test::write_bytes(dir / "cifar-10-batches-bin/test_batch.bin", cifar_records(3, 1, 9));
  const auto train = read_cifar(dir.path(), false, true);
  EXPECT_EQ(train.images.sizes(), (std::vector<int64_t>{10, 3, 32, 32}));
  EXPECT_EQ(train.labels[9].item<int64_t>(), 5);
  EXPECT_EQ(read_cifar(dir.path(), false, false).images.size(0), 3);

  auto cut = cifar_records(2, 1, 1);
  cut.pop_back();
  test::write_bytes(dir / "cifar-10-batches-bin/test_batch.bin", cut);
  EXPECT_NE(error_of([&] { read_cifar(dir.path(), false, false); }).find("test_batch.bin: size"),
            std::string::npos);
  test::write_bytes(dir / "cifar-10-batches-bin/test_batch.bin", cifar_records(1, 1, 10));
  EXPECT_NE(error_of([&] { read_cifar(dir.path(), false, false); }).find("label 10"),
            std::string::npos);

  test::write_bytes(dir / "c100/train.bin", cifar_records(4, 2, 99));
  const auto c100 = read_cifar(dir / "c100", true, true);
  EXPECT_EQ(c100.num_classes, 100);
  EXPECT_EQ(c100.labels[0].item<int64_t>(), 99);  // the fine label, not the coarse 3
  test::write_bytes(dir / "c100/test.bin", cifar_records(1, 2, 100));
  EXPECT_NE(error_of([&] { read_cifar(dir / "c100", true, false); }).find("test.bin: record 0"),
            std::string::npos);
}

TEST(Cifar, OpenDatasetAugmentsTrainOnly) {
  TempDir dir;
  for (int b = 1; b <= 5; ++b) {
    test::write_bytes(dir / ("data_batch_" + std::to_string(b) + ".bin"), cifar_records(4, 1, 2));
  }
  test::write_bytes(dir / "test_batch.bin", cifar_records(6, 1, 1));
  DataSpec spec = spec_defaults().data;
  spec.format = DataFormat::kCifar10;
  spec.root = dir.path();
  spec.image_size = 32;
  spec.batch_size = 8;
  spec.train_limit = 12;
  DataSplits splits = open_dataset(spec, 1, 0, 1);
  EXPECT_EQ(splits.in_channels, 3);
  EXPECT_EQ(splits.image_size, 32);
  EXPECT_EQ(splits.num_classes, 10);
  EXPECT_EQ(splits.train->num_samples(), 12);
  EXPECT_EQ(splits.val->num_samples(), 6);
  splits.train->start_epoch(0);
  const auto train = splits.train->next();
  const float zero = (0 - 0.4914f) / 0.2470f;  // padded pixels
  EXPECT_NEAR(train->images.min().item<float>(), zero, 1e-4);
  splits.val->start_epoch(0);
  const auto val = splits.val->next();
  EXPECT_NEAR(val->images[0].min().item<float>(), zero, 1e-4);  // record 0 is all zeros
  EXPECT_NEAR(val->images[1][0][0][0].item<float>(), (1 / 255.f - 0.4914f) / 0.2470f, 1e-4);
}

TEST(Cifar, ValSplitHoldsOutBalancedTrainingRecordsAndTestsOnTheTestBatch) {
  // Five batches of one record per class: 5 training images of each of the 10 classes, each
  // record's pixels its batch number, so a held-out image tells which batch it came from.
  TempDir dir;
  for (int b = 1; b <= 5; ++b) {
    std::vector<uint8_t> batch;
    for (uint8_t label = 0; label < 10; ++label) {
      for (uint8_t byte : cifar_records(1, 1, label)) batch.push_back(byte);
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (i % 3073 != 0) batch[i] = static_cast<uint8_t>(b);
    }
    test::write_bytes(dir / ("data_batch_" + std::to_string(b) + ".bin"), batch);
  }
  test::write_bytes(dir / "test_batch.bin", cifar_records(3, 1, 7));
  DataSpec spec = spec_defaults().data;
  spec.format = DataFormat::kCifar10;
  spec.root = dir.path();
  spec.image_size = 32;
  spec.augment = true;
  spec.val_split = 20;
  const DatasetSources sources = open_sources(spec);
  ASSERT_TRUE(sources.test);
  EXPECT_EQ(sources.val->size(), 20);
  EXPECT_EQ(sources.train->size(), 30);
  EXPECT_EQ(sources.test->size(), 3);
  EXPECT_NE(sources.test->describe(0).find("test"), std::string::npos);
  std::vector<int64_t> per_class(10, 0);
  std::vector<float> first(3 * 32 * 32), second(first.size());
  for (int64_t i = 0; i < sources.val->size(); ++i) {
    ++per_class[static_cast<size_t>(sources.val->label(i))];
    EXPECT_NE(sources.val->describe(i).find("train"), std::string::npos);
    // Held out from the training set, so never augmented.
    sources.val->load(i, 1, first.data());
    sources.val->load(i, 2, second.data());
    EXPECT_EQ(first, second) << sources.val->describe(i);
  }
  for (int64_t count : per_class) EXPECT_EQ(count, 2);
}

TEST(Limits, SubsetIsFixedAndIndependentOfTheSeed) {
  const auto a = limited_subset(100, 10);
  EXPECT_EQ(a.size(), 10u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(a, limited_subset(100, 10));
  EXPECT_NE(a, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(limited_subset(5, 10).size(), 5u);
}

class RealFashionMnist : public ::testing::Test {
 protected:
  void SetUp() override {
    CTMQ_REQUIRE(fs::exists(std::string(CTMQ_FASHION_MNIST_DIR) + "/train-images-idx3-ubyte.gz"),
                 "dataset-fashion-mnist (" CTMQ_FASHION_MNIST_DIR ")");
  }
};

TEST_F(RealFashionMnist, LoadsBothSplits) {
  const auto train = read_fashion_mnist(CTMQ_FASHION_MNIST_DIR, true);
  const auto test = read_fashion_mnist(CTMQ_FASHION_MNIST_DIR, false);
  EXPECT_EQ(train.images.sizes(), (std::vector<int64_t>{60000, 1, 28, 28}));
  EXPECT_EQ(test.images.sizes(), (std::vector<int64_t>{10000, 1, 28, 28}));
  EXPECT_EQ(torch::bincount(train.labels).eq(6000).all().item<bool>(), true);
  const double mean = train.images.to(torch::kFloat64).mean().item<double>() / 255.0;
  EXPECT_NEAR(mean, 0.2860, 1e-3);
}

TEST_F(RealFashionMnist, ShardedLimitedLoaders) {
  DataSpec spec = spec_defaults().data;
  spec.root = CTMQ_FASHION_MNIST_DIR;
  spec.batch_size = 64;
  spec.train_limit = 1000;
  spec.val_limit = 300;
  std::set<int64_t> val_seen;
  int64_t val_total = 0;
  for (int64_t rank = 0; rank < 2; ++rank) {
    DataSplits splits = open_dataset(spec, 5, rank, 2, 100);
    EXPECT_EQ(splits.in_channels, 1);
    EXPECT_EQ(splits.image_size, 28);
    EXPECT_EQ(splits.train->num_samples(), 500);
    EXPECT_EQ(splits.train->batches_per_epoch(), 8);
    EXPECT_EQ(splits.val->num_samples(), 150);
    splits.train->start_epoch(0);
    const auto batch = splits.train->next();
    EXPECT_EQ(batch->images.sizes(), (std::vector<int64_t>{64, 1, 28, 28}));
    const float lo = -0.2860f / 0.3530f;
    EXPECT_GE(batch->images.min().item<float>(), lo - 1e-4);
    EXPECT_LE(batch->images.max().item<float>(), (1 - 0.2860f) / 0.3530f + 1e-4);
    for (int64_t i : splits.val->epoch_indices(0)) val_seen.insert(i);
    val_total += splits.val->num_samples();
  }
  EXPECT_EQ(val_total, 300);
  EXPECT_EQ(val_seen.size(), 300u);
}

}  // namespace
}  // namespace ctmq::data
