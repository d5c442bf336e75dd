#pragma once
// The data entry point of the training engine: a DataSpec -> train and val loaders.
//
// Train: shuffled each epoch, augmented (imagenet: RandomResizedCrop + flip; small datasets:
// padded random crop + flip when data.augment), drop_last = false, shards padded to equal
// size (see data_loader.h). Val: dataset order, no augmentation, every sample exactly once
// across ranks (shards disjoint and complete; ranks may differ by one sample).
//
// Limits: data.train_limit / data.val_limit keep the first N samples of a fixed,
// seed-independent permutation of the split (then restored to dataset order), so a limited
// run sees the same roughly class-balanced subset whatever its seed.
//
// Validation: with data.val_split = N, N training images (data/val_split.h), without
// augmentation, are the validation split and the dataset's own validation/test split becomes
// the test split (data.val_limit limits it; data.train_limit limits the remaining training
// images). With N = 0 the dataset's own split is the validation split and there is no test
// split.
//
// Small datasets use their native size (28 or 32) whatever data.image_size says.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ctmq/data/data_loader.h"
#include "ctmq/spec/spec.h"

namespace ctmq {

struct DataSplits {
  std::unique_ptr<DataLoader> train;
  std::unique_ptr<DataLoader> val;
  std::unique_ptr<DataLoader> test;  ///< null without data.val_split
  int64_t num_classes = 0;
  std::vector<std::string> class_names;  ///< in label order (data/dataset_info.h); may be empty
  int64_t in_channels = 0;
  int64_t image_size = 0;
};

/// Opens both splits of `spec` for this rank. `val_batch_size` 0 = spec.batch_size. Throws
/// DataError naming the file or folder for missing or malformed data (and, with
/// on_bad_image = fail, for the first bad file), SpecError for an unknown format.
/// `uint8_batches`: see LoaderOptions (CUDA runs).
DataSplits open_dataset(const DataSpec& spec, int64_t seed, int64_t rank, int64_t world_size,
                        int64_t val_batch_size = 0, bool uint8_batches = false);

namespace data {

/// The splits as sample sources, before any loader; also used by the benchmark.
struct DatasetSources {
  std::shared_ptr<const SampleSource> train, val;
  std::shared_ptr<const SampleSource> test;  ///< null without data.val_split
  int64_t num_classes = 0;
  std::vector<std::string> class_names;  ///< in label order; may be empty
  int64_t bad_train = 0;                 ///< files left out at scan time
  int64_t bad_val = 0;
};

/// Builds the sources of `spec`; `with_val` = false skips the val and test splits (benchmark).
DatasetSources open_sources(const DataSpec& spec, bool with_val = true);

/// Dataset indices kept by a limit: the first `limit` of a fixed permutation of 0..n-1, sorted.
std::vector<int64_t> limited_subset(int64_t n, int64_t limit);

}  // namespace data
}  // namespace ctmq
