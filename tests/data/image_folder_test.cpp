#include "ctmq/data/image_folder_index.h"
#include "ctmq/spec/spec_keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "ctmq/core/errors.h"
#include "ctmq/data/dataset_factory.h"
#include "support/prerequisite.h"
#include "test_image_tree.h"

namespace fs = std::filesystem;

namespace ctmq::data {
namespace {

using test::TempDir;

/// ROOT/train/{n02,n01,n03}/ with 3, 2 and 2 good images of every colour type, and
/// ROOT/val/<wnid>/ with one image each.
void make_tree(const TempDir& root) {
  test::write_jpeg(root / "train/n02/a.jpg");
  test::write_jpeg(root / "train/n02/b.JPEG");
  test::write_bytes(root / "train/n02/c.jpeg", test::cmyk_jpeg_bytes());
  cv::Mat gray;
  cv::cvtColor(test::make_image(30, 20), gray, cv::COLOR_BGR2GRAY);
  test::write_image(root / "train/n01/gray.jpg", gray);
  test::write_bytes(root / "train/n01/palette.png", test::palette_png_bytes());
  cv::Mat rgba, deep;
  cv::cvtColor(test::make_image(30, 20), rgba, cv::COLOR_BGR2BGRA);
  test::make_image(30, 20).convertTo(deep, CV_16UC3, 257.0);
  test::write_image(root / "train/n03/alpha.png", rgba);
  test::write_image(root / "train/n03/deep.PNG", deep);
  test::write_image(root / "train/n03/x.bmp", test::make_image(16, 16));
  test::write_image(root / "train/n03/y.webp", test::make_image(16, 16));
  test::write_bytes(root / "train/n03/notes.txt", {'h', 'i'});  // ignored: not an image name
  for (const char* wnid : {"n01", "n02", "n03"}) {
    test::write_jpeg(root / (std::string("val/") + wnid + "/v.jpg"), 300, 200);
  }
}

/// One bad file of every kind in ROOT/train/n01; returns how many.
int add_bad_files(const TempDir& root) {
  test::write_bytes(root / "train/n01/empty.jpg", {});
  test::write_truncated_jpeg(root / "train/n01/cut.jpg");
  test::write_bytes(root / "train/n01/text.png",
                    {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'g'});
  fs::create_directories(root / "train/n01/folder.jpg");
  fs::create_symlink(root / "nowhere.jpg", root / "train/n01/dangling.jpg");
  test::write_undecodable_jpeg(root / "train/n01/zz_undecodable.jpg");  // found at decode time
  return 5;
}

ScanOptions no_cache() {
  ScanOptions o;
  o.use_cache = false;
  return o;
}

TEST(ImageFolder, ClassesAreSortedFolderNamesAndFilesAreSorted) {
  TempDir root;
  make_tree(root);
  const auto classes = imagenet_classes(root.path());
  EXPECT_EQ(classes, (std::vector<std::string>{"n01", "n02", "n03"}));
  const auto index = scan_image_folder(root.path(), "train", classes, no_cache());
  ASSERT_EQ(index.images.size(), 9u);
  EXPECT_EQ(index.images[0].relative_path, "n01/gray.jpg");
  EXPECT_EQ(index.images[0].label, 0);
  EXPECT_EQ(index.images[2].relative_path, "n02/a.jpg");
  EXPECT_EQ(index.images[2].label, 1);
  EXPECT_EQ(index.images[8].relative_path, "n03/y.webp");
  EXPECT_EQ(index.images[8].label, 2);
  EXPECT_TRUE(index.bad_files.empty());
}

TEST(ImageFolder, ScanFindsEveryCheapBadFile) {
  TempDir root;
  make_tree(root);
  add_bad_files(root);
  const auto index =
      scan_image_folder(root.path(), "train", imagenet_classes(root.path()), no_cache());
  std::map<std::string, std::string> reasons;
  for (const auto& bad : index.bad_files)
    reasons[fs::path(bad.path).filename().string()] = bad.reason;
  EXPECT_EQ(reasons["empty.jpg"], "empty file");
  EXPECT_EQ(reasons["cut.jpg"], "truncated JPEG (no EOI marker)");
  EXPECT_EQ(reasons["text.png"], "not an image (unrecognised header)");
  EXPECT_EQ(reasons["folder.jpg"], "is a directory");
  EXPECT_EQ(reasons["dangling.jpg"], "dangling symlink");
  EXPECT_EQ(index.bad_files.size(), 5u);
  EXPECT_EQ(index.images.size(), 10u);  // the undecodable one passes the cheap checks
}

TEST(ImageFolder, UnreadableFileIsBad) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their permissions";
  TempDir root;
  test::write_jpeg(root / "locked.jpg");
  ::chmod((root / "locked.jpg").c_str(), 0);
  EXPECT_EQ(check_image_file(root / "locked.jpg").rfind("unreadable", 0), 0u);
}

TEST(ImageFolder, StructuralProblemsNameThePath) {
  TempDir root;
  auto message = [&](auto&& f) {
    try {
      f();
    } catch (const DataError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] { imagenet_classes(root / "missing"); }).find(root / "missing"),
            std::string::npos);
  EXPECT_NE(message([&] { imagenet_classes(root.path()); }).find("missing split"),
            std::string::npos);
  fs::create_directories(root / "train");
  EXPECT_NE(message([&] { imagenet_classes(root.path()); }).find("no class folders"),
            std::string::npos);
  fs::create_directories(root / "train/n01");
  test::write_jpeg(root / "train/n02/a.jpg");
  const auto empty = message([&] { scan_image_folder(root.path(), "train", {}, no_cache()); });
  EXPECT_NE(empty.find("empty class folder"), std::string::npos) << empty;
  EXPECT_NE(empty.find("n01"), std::string::npos) << empty;
  fs::remove(root / "train/n01");
  EXPECT_NE(message([&] {
              scan_image_folder(root.path(), "val", {"n02"}, no_cache());
            }).find("missing split"),
            std::string::npos);
  fs::create_directories(root / "val");
  EXPECT_NE(message([&] {
              scan_image_folder(root.path(), "val", {"n02"}, no_cache());
            }).find("no images"),
            std::string::npos);
  test::write_jpeg(root / "val/x.jpg");
  EXPECT_NE(message([&] {
              scan_image_folder(root.path(), "val", {"n02"}, no_cache());
            }).find("val_labels"),
            std::string::npos);
}

TEST(ImageFolder, FlatValWithLabelFiles) {
  TempDir root;
  make_tree(root);
  fs::remove_all(root / "val");
  for (const char* name : {"ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000002.JPEG",
                           "ILSVRC2012_val_00000003.JPEG", "unlabelled.JPEG"}) {
    test::write_jpeg(root / (std::string("val/") + name));
  }
  const auto classes = imagenet_classes(root.path());
  const std::vector<std::pair<std::string, std::string>> forms = {
      {"labels.csv",
       "ImageId,PredictionString\nILSVRC2012_val_00000001,n03 1 2 3 4\n"
       "ILSVRC2012_val_00000002,n01 5 6 7 8\nILSVRC2012_val_00000003,n02\n"},
      {"val.txt",
       "ILSVRC2012_val_00000001.JPEG 2\nILSVRC2012_val_00000002.JPEG 0\n"
       "ILSVRC2012_val_00000003.JPEG 1\n"},
      {"wnids.txt",
       "ILSVRC2012_val_00000001.JPEG,n03\nILSVRC2012_val_00000002.JPEG,n01\n"
       "ILSVRC2012_val_00000003.JPEG,n02\n"}};
  for (const auto& [name, text] : forms) {
    std::ofstream(root / name) << text;
    ScanOptions o = no_cache();
    o.val_labels = name;  // relative to ROOT
    const auto index = scan_image_folder(root.path(), "val", classes, o);
    ASSERT_EQ(index.images.size(), 3u) << name;
    EXPECT_EQ(index.images[0].label, 2) << name;
    EXPECT_EQ(index.images[1].label, 0) << name;
    EXPECT_EQ(index.images[2].label, 1) << name;
    ASSERT_EQ(index.bad_files.size(), 1u) << name;
    EXPECT_NE(index.bad_files[0].reason.find("no label"), std::string::npos);
  }
  std::ofstream(root / "bad.txt")
      << "ILSVRC2012_val_00000001.JPEG 1\nILSVRC2012_val_00000002.JPEG n99\n";
  ScanOptions o = no_cache();
  o.val_labels = root / "bad.txt";
  try {
    scan_image_folder(root.path(), "val", classes, o);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt:2"), std::string::npos) << e.what();
  }
}

TEST(ImageFolder, IndexCacheIsReusedAndInvalidated) {
  TempDir root;
  make_tree(root);
  const auto classes = imagenet_classes(root.path());
  const auto first = scan_image_folder(root.path(), "train", classes);
  EXPECT_FALSE(first.from_cache);
  EXPECT_TRUE(fs::exists(root / ".ctmq-index-train.txt"));
  const auto second = scan_image_folder(root.path(), "train", classes);
  EXPECT_TRUE(second.from_cache);
  ASSERT_EQ(second.images.size(), first.images.size());
  EXPECT_EQ(second.images[4].relative_path, first.images[4].relative_path);
  EXPECT_EQ(second.classes, first.classes);
  test::write_jpeg(root / "train/n02/new.jpg");  // changes n02's mtime
  const auto third = scan_image_folder(root.path(), "train", classes);
  EXPECT_FALSE(third.from_cache);
  EXPECT_EQ(third.images.size(), first.images.size() + 1);

  // A read-only root: the cache goes to the cache folder instead.
  if (::geteuid() != 0) {
    TempDir cache;
    fs::remove(root / ".ctmq-index-train.txt");
    ::chmod(root.path().c_str(), 0555);
    ScanOptions o;
    o.cache_dir = cache.path();
    scan_image_folder(root.path(), "train", classes, o);
    EXPECT_TRUE(scan_image_folder(root.path(), "train", classes, o).from_cache);
    ::chmod(root.path().c_str(), 0755);
  }
}

DataSpec imagenet_spec(const std::string& root) {
  DataSpec spec = spec_defaults().data;
  spec.format = DataFormat::kImageNet;
  spec.root = root;
  spec.image_size = 24;
  spec.resize = 28;
  spec.batch_size = 4;
  spec.workers = 2;
  return spec;
}

TEST(ImageFolder, OpenDatasetGivesNormalisedRgbBatches) {
  TempDir root;
  make_tree(root);
  const int bad = add_bad_files(root);
  DataSplits splits = open_dataset(imagenet_spec(root.path()), 3, 0, 1);
  EXPECT_EQ(splits.num_classes, 3);
  EXPECT_EQ(splits.in_channels, 3);
  EXPECT_EQ(splits.image_size, 24);
  EXPECT_EQ(splits.train->num_samples(), 10);
  EXPECT_EQ(splits.val->num_samples(), 3);
  splits.train->start_epoch(0);
  int64_t seen = 0;
  while (auto batch = splits.train->next()) {
    EXPECT_EQ(batch->images.sizes(), (std::vector<int64_t>{batch->images.size(0), 3, 24, 24}));
    EXPECT_EQ(batch->images.dtype(), torch::kFloat32);
    EXPECT_GE(batch->images.min().item<float>(), -0.485f / 0.229f - 1e-4f);
    EXPECT_LE(batch->images.max().item<float>(), (1 - 0.406f) / 0.225f + 1e-4f);
    EXPECT_GE(batch->labels.min().item<int64_t>(), 0);
    EXPECT_LE(batch->labels.max().item<int64_t>(), 2);
    seen += batch->images.size(0);
  }
  EXPECT_EQ(seen, 10);
  EXPECT_EQ(splits.train->bad_images_skipped(), bad + 1);  // + the undecodable one
  splits.val->start_epoch(0);
  auto val = splits.val->next();
  ASSERT_TRUE(val);
  EXPECT_EQ(val->labels[0].item<int64_t>(), 0);
  EXPECT_EQ(val->labels[2].item<int64_t>(), 2);
}

TEST(ImageFolder, FailModeStopsAtTheFirstBadFile) {
  TempDir root;
  make_tree(root);
  test::write_truncated_jpeg(root / "train/n02/cut.jpg");
  DataSpec spec = imagenet_spec(root.path());
  spec.on_bad_image = BadImagePolicy::kFail;
  try {
    open_dataset(spec, 1, 0, 1);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.jpg"), std::string::npos) << e.what();
  }
  fs::remove(root / "train/n02/cut.jpg");
  test::write_undecodable_jpeg(root / "train/n02/junk.jpg");
  DataSplits splits = open_dataset(spec, 1, 0, 1);
  splits.train->start_epoch(0);
  EXPECT_THROW(
      {
        while (splits.train->next()) {
        }
      },
      DataError);
}

}  // namespace
}  // namespace ctmq::data

namespace ctmq::data {
namespace {

// Every batch of a loader, train and val, as float32 network input on the CPU.
std::vector<torch::Tensor> all_inputs(DataLoader& loader) {
  std::vector<torch::Tensor> out;
  DeviceInput input(torch::kCPU);
  loader.start_epoch(4);
  while (auto batch = loader.next()) out.push_back(input.images(*batch));
  return out;
}

void expect_uint8_batches_match_float(const DataSpec& spec) {
  DataSplits floats = open_dataset(spec, 9, 0, 1);
  DataSplits bytes = open_dataset(spec, 9, 0, 1, 0, /*uint8_batches=*/true);
  bytes.train->start_epoch(0);
  EXPECT_EQ(bytes.train->next()->images.scalar_type(), torch::kUInt8);
  for (auto split : {&DataSplits::train, &DataSplits::val}) {
    auto a = all_inputs(*(floats.*split));
    auto b = all_inputs(*(bytes.*split));
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(b[i].scalar_type(), torch::kFloat32);
      // The same pixels and crops; only where the normalisation rounds may differ (1 ulp).
      EXPECT_TRUE(torch::allclose(a[i], b[i], 0, 1e-5))
          << choice_name(spec.format) << " batch " << i;
    }
  }
}

TEST(Uint8Batches, NormalisedOnTheDeviceEqualTheFloatBatches) {
  TempDir root;
  make_tree(root);
  expect_uint8_batches_match_float(imagenet_spec(root.path()));

  CTMQ_REQUIRE(
      std::filesystem::exists(std::string(CTMQ_FASHION_MNIST_DIR) + "/train-labels-idx1-ubyte.gz"),
      "dataset-fashion-mnist (" CTMQ_FASHION_MNIST_DIR ")");
  DataSpec fashion = spec_defaults().data;
  fashion.format = DataFormat::kFashionMnist;
  fashion.root = CTMQ_FASHION_MNIST_DIR;
  fashion.image_size = 28;
  fashion.batch_size = 64;
  fashion.workers = 2;
  fashion.train_limit = 200;
  fashion.val_limit = 100;
  expect_uint8_batches_match_float(fashion);
}

TEST(Uint8Batches, DeviceInputFollowsEachBatchsNormalisationAndChannels) {
  // One DeviceInput fed batches from different sources: its cached per-channel factors must be
  // rebuilt whenever the normalisation or the channel count changes.
  DeviceInput input(torch::kCPU);
  const Normalization gray{{0.5f, 0.f, 0.f}, {0.25f, 1.f, 1.f}};
  auto pixels = [](int64_t channels) {
    return torch::arange(2 * channels * 4, torch::kInt64)
        .remainder(256)
        .to(torch::kUInt8)
        .view({2, channels, 2, 2});
  };
  auto expected = [](const torch::Tensor& p, const Normalization& n) {
    auto x = p.to(torch::kFloat32).div(255.f);
    for (int64_t c = 0; c < p.size(1); ++c) x.select(1, c).sub_(n.mean[c]).div_(n.std[c]);
    return x;
  };
  for (const auto& [channels, norm] : std::vector<std::pair<int64_t, Normalization>>{
           {3, kImageNetNormalization}, {1, gray}, {3, kImageNetNormalization}}) {
    Batch batch{pixels(channels), torch::zeros({2}, torch::kInt64), norm};
    const auto got = input.images(batch);
    ASSERT_EQ(got.sizes(), batch.images.sizes());
    EXPECT_TRUE(torch::allclose(got, expected(batch.images, norm), 1e-5, 1e-5)) << channels;
  }
}

}  // namespace
}  // namespace ctmq::data
