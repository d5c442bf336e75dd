#include "ctmq/data/data_loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "ctmq/core/errors.h"
#include "ctmq/data/rng.h"

namespace ctmq {
namespace {

/// Sample i is a 1x2x2 image filled with i plus a seeded random number; label i % 7. The
/// samples in `bad` throw as undecodable files do.
class CountingSource : public data::SampleSource {
 public:
  explicit CountingSource(int64_t n, std::set<int64_t> bad = {}) : n_(n), bad_(std::move(bad)) {}
  int64_t size() const override { return n_; }
  int64_t channels() const override { return 1; }
  int64_t height() const override { return 2; }
  int64_t width() const override { return 2; }
  int64_t label(int64_t i) const override { return i % 7; }
  void load(int64_t i, uint64_t seed, float* out) const override {
    if (bad_.count(i)) throw data::BadSampleError(describe(i), "cannot be decoded");
    data::SampleRng rng(seed);
    out[0] = static_cast<float>(i);
    for (int k = 1; k < 4; ++k) out[k] = static_cast<float>(rng.uniform());
  }
  void load_pixels(int64_t i, uint64_t, uint8_t* out) const override {
    for (int k = 0; k < 4; ++k) out[k] = static_cast<uint8_t>(i);
  }
  data::Normalization normalization() const override { return {}; }
  std::string describe(int64_t i) const override { return "sample" + std::to_string(i); }

 private:
  int64_t n_;
  std::set<int64_t> bad_;
};

LoaderOptions options(int64_t batch, int64_t workers) {
  LoaderOptions o;
  o.batch_size = batch;
  o.workers = workers;
  o.prefetch = 2;
  o.seed = 7;
  return o;
}

/// Every batch of the epoch, concatenated.
Batch drain(DataLoader& loader, int64_t epoch, int64_t first_batch = 0) {
  loader.start_epoch(epoch, first_batch);
  std::vector<torch::Tensor> images, labels;
  while (auto batch = loader.next()) {
    images.push_back(batch->images);
    labels.push_back(batch->labels);
  }
  if (images.empty()) return {torch::empty({0}), torch::empty({0}, torch::kInt64)};
  return {torch::cat(images), torch::cat(labels)};
}

std::vector<int64_t> ids(const Batch& b) {
  auto first = b.images.reshape({b.images.size(0), -1}).select(1, 0).to(torch::kInt64).contiguous();
  return {first.data_ptr<int64_t>(), first.data_ptr<int64_t>() + first.numel()};
}

TEST(DataLoader, ShapesDtypesAndCounts) {
  DataLoader loader(std::make_shared<CountingSource>(10), options(4, 2));
  EXPECT_EQ(loader.batches_per_epoch(), 3);
  EXPECT_EQ(loader.num_samples(), 10);
  loader.start_epoch(0);
  std::vector<int64_t> sizes;
  while (auto batch = loader.next()) {
    EXPECT_EQ(batch->images.dtype(), torch::kFloat32);
    EXPECT_EQ(batch->labels.dtype(), torch::kInt64);
    EXPECT_EQ(batch->images.dim(), 4);
    EXPECT_EQ(batch->images.size(1), 1);
    sizes.push_back(batch->images.size(0));
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2}));
  EXPECT_FALSE(loader.next());
  auto o = options(4, 0);
  o.drop_last = true;
  EXPECT_EQ(DataLoader(std::make_shared<CountingSource>(10), o).batches_per_epoch(), 2);
}

TEST(DataLoader, OrderIsAPermutationFixedBySeedAndEpoch) {
  auto source = std::make_shared<CountingSource>(50);
  DataLoader a(source, options(8, 2)), b(source, options(8, 3));
  const auto e0 = ids(drain(a, 0));
  auto sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_EQ(ids(drain(b, 0)), e0);
  EXPECT_NE(ids(drain(a, 1)), e0);
  auto other_seed = options(8, 2);
  other_seed.seed = 8;
  DataLoader c(source, other_seed);
  EXPECT_NE(ids(drain(c, 0)), e0);
  auto ordered = options(8, 1);
  ordered.shuffle = false;
  DataLoader d(source, ordered);
  EXPECT_EQ(ids(drain(d, 3)), sorted);
}

TEST(DataLoader, ResultsDoNotDependOnThreadsAndResumeAtABatch) {
  auto source = std::make_shared<CountingSource>(37);
  DataLoader inline_loader(source, options(5, 0)), threaded(source, options(5, 4));
  const Batch reference = drain(inline_loader, 2);
  const Batch other = drain(threaded, 2);
  EXPECT_TRUE(torch::equal(reference.images, other.images));
  EXPECT_TRUE(torch::equal(reference.labels, other.labels));
  const Batch resumed = drain(threaded, 2, 3);
  EXPECT_TRUE(torch::equal(resumed.images, reference.images.slice(0, 15)));
  EXPECT_TRUE(torch::equal(resumed.labels, reference.labels.slice(0, 15)));
}

TEST(DataLoader, PaddedShardsAreEqualDisjointUpToPaddingAndComplete) {
  auto source = std::make_shared<CountingSource>(23);
  std::multiset<int64_t> all;
  for (int64_t rank = 0; rank < 4; ++rank) {
    auto o = options(4, 2);
    o.rank = rank;
    o.world_size = 4;
    DataLoader loader(source, o);
    EXPECT_EQ(loader.num_samples(), 6);
    EXPECT_EQ(loader.batches_per_epoch(), 2);
    const auto mine = ids(drain(loader, 5));
    EXPECT_EQ(mine, loader.epoch_indices(5));
    all.insert(mine.begin(), mine.end());
  }
  EXPECT_EQ(all.size(), 24u);  // 23 + one padded repeat
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), 23u);
}

TEST(DataLoader, UnpaddedShardsAreDisjointAndComplete) {
  auto source = std::make_shared<CountingSource>(23);
  std::multiset<int64_t> all;
  int64_t total = 0;
  for (int64_t rank = 0; rank < 4; ++rank) {
    auto o = options(4, 1);
    o.rank = rank;
    o.world_size = 4;
    o.shuffle = false;
    o.pad_shards = false;
    DataLoader loader(source, o);
    total += loader.num_samples();
    const auto mine = ids(drain(loader, 0));
    EXPECT_EQ(static_cast<int64_t>(mine.size()), loader.num_samples());
    all.insert(mine.begin(), mine.end());
  }
  EXPECT_EQ(total, 23);
  EXPECT_EQ(all.size(), 23u);
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), 23u);
}

TEST(DataLoader, StoppingEarlyAndRestartingDoesNotHang) {
  auto source = std::make_shared<CountingSource>(1000);
  {
    DataLoader loader(source, options(2, 4));
    loader.start_epoch(0);
    ASSERT_TRUE(loader.next());
    loader.start_epoch(1);  // abandons epoch 0 mid-way
    ASSERT_TRUE(loader.next());
  }  // destructor joins workers blocked on a full window
  DataLoader unused(source, options(2, 4));
  unused.start_epoch(0);
  SUCCEED();
}

TEST(DataLoader, UndecodableSamplesAreSubstitutedOrFail) {
  auto source = std::make_shared<CountingSource>(12, std::set<int64_t>{3, 4});
  auto o = options(4, 2);
  o.shuffle = false;
  DataLoader skip(source, o, /*bad_at_scan=*/2);
  EXPECT_EQ(ids(drain(skip, 0)), (std::vector<int64_t>{0, 1, 2, 5, 5, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(skip.bad_images_skipped(), 4);
  drain(skip, 1);
  EXPECT_EQ(skip.bad_images_skipped(), 4);  // counted once per file

  o.skip_bad = false;
  DataLoader fail(source, o);
  fail.start_epoch(0);
  try {
    fail.next();  // batch 0 holds sample 3
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("sample3"), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), kExitData);
  }
}

TEST(DataLoader, RejectsBadOptions) {
  auto source = std::make_shared<CountingSource>(5);
  auto o = options(0, 1);
  EXPECT_THROW(DataLoader(source, o), Error);
  o = options(2, 1);
  o.rank = 2;
  o.world_size = 2;
  EXPECT_THROW(DataLoader(source, o), Error);
  DataLoader loader(source, options(2, 1));
  EXPECT_THROW(loader.next(), Error);
}

}  // namespace
}  // namespace ctmq
