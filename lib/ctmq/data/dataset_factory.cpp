#include "ctmq/data/dataset_factory.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "ctmq/core/errors.h"
#include "ctmq/data/dataset_info.h"
#include "ctmq/data/image_folder_source.h"
#include "ctmq/data/rng.h"
#include "ctmq/data/tensor_source.h"
#include "ctmq/data/val_split.h"

namespace ctmq {
namespace data {
namespace {

// Fixed on purpose: a limited subset must not change with the experiment's seed.
constexpr uint64_t kLimitSeed = 0x6c696d6974ULL;

std::shared_ptr<const SampleSource> apply_limit(std::shared_ptr<const SampleSource> source,
                                                int64_t limit) {
  if (limit <= 0 || limit >= source->size()) return source;
  return std::make_shared<SubsetSource>(source, limited_subset(source->size(), limit));
}

/// Warns about (skip) or rejects (fail) the files the scan left out; returns their count.
int64_t report_scan_bad_files(const ImageFolderIndex& index, const DataSpec& spec) {
  if (!index.bad_files.empty() && spec.on_bad_image == BadImagePolicy::kFail) {
    const auto& bad = index.bad_files.front();
    throw DataError(bad.path + ": " + bad.reason + " (data.on_bad_image = fail; " +
                    std::to_string(index.bad_files.size()) + " bad files in " + index.split_dir +
                    ")");
  }
  for (const auto& bad : index.bad_files) {
    spdlog::warn("skipping bad image {}: {}", bad.path, bad.reason);
  }
  if (!index.bad_files.empty()) {
    spdlog::warn("{} bad images left out of {}", index.bad_files.size(), index.split_dir);
  }
  return static_cast<int64_t>(index.bad_files.size());
}

/// A dataset's splits as it ships them.
struct NativeSources {
  std::shared_ptr<const SampleSource> train;        ///< augmented (data.augment)
  std::shared_ptr<const SampleSource> train_plain;  ///< the same images, eval transform
  std::shared_ptr<const SampleSource> val;          ///< the dataset's validation/test split
  int64_t num_classes = 0;
  std::vector<std::string> class_names;
  int64_t bad_train = 0;
  int64_t bad_val = 0;
};

NativeSources open_imagenet(const DataSpec& spec, bool with_val) {
  NativeSources sources;
  const auto classes = imagenet_classes(spec.root);
  ScanOptions options;
  options.val_labels = spec.val_labels;
  auto train =
      std::make_shared<ImageFolderIndex>(scan_image_folder(spec.root, "train", classes, options));
  sources.bad_train = report_scan_bad_files(*train, spec);
  sources.num_classes = static_cast<int64_t>(classes.size());
  sources.class_names = classes;
  sources.train = std::make_shared<ImageFolderSource>(train, ImageTransform::kTrain,
                                                      spec.image_size, spec.resize);
  sources.train_plain = std::make_shared<ImageFolderSource>(train, ImageTransform::kEval,
                                                            spec.image_size, spec.resize);
  if (with_val) {
    auto val =
        std::make_shared<ImageFolderIndex>(scan_image_folder(spec.root, "val", classes, options));
    sources.bad_val = report_scan_bad_files(*val, spec);
    sources.val = std::make_shared<ImageFolderSource>(val, ImageTransform::kEval, spec.image_size,
                                                      spec.resize);
  }
  return sources;
}

NativeSources open_small(const DataSpec& spec, bool with_val) {
  NativeSources sources;
  const bool fmnist = spec.format == DataFormat::kFashionMnist;
  const bool cifar100 = spec.format == DataFormat::kCifar100;
  const Normalization norm = fmnist     ? kFashionMnistNormalization
                             : cifar100 ? kCifar100Normalization
                                        : kCifar10Normalization;
  auto read = [&](bool train) {
    return fmnist ? read_fashion_mnist(spec.root, train) : read_cifar(spec.root, cifar100, train);
  };
  ImageTensorSet train = read(true);
  sources.num_classes = train.num_classes;
  const auto& names = builtin_class_names(spec.format);
  if (static_cast<int64_t>(names.size()) == sources.num_classes) sources.class_names = names;
  const int64_t padding = spec.augment ? spec.crop_padding : 0;
  const std::string train_name = spec.root + " (" + choice_name(spec.format) + " train)";
  // Both sources share the image tensor.
  sources.train_plain = std::make_shared<TensorSource>(train, false, 0, norm, train_name);
  sources.train =
      std::make_shared<TensorSource>(std::move(train), spec.augment, padding, norm, train_name);
  if (with_val) {
    sources.val = std::make_shared<TensorSource>(
        read(false), false, 0, norm, spec.root + " (" + choice_name(spec.format) + " test)");
  }
  if (spec.image_size != sources.train->height()) {
    spdlog::warn("data.image_size = {} ignored: {} images are {}x{}", spec.image_size,
                 choice_name(spec.format), sources.train->height(), sources.train->width());
  }
  return sources;
}

}  // namespace

std::vector<int64_t> limited_subset(int64_t n, int64_t limit) {
  auto order = permutation(n, kLimitSeed);
  order.resize(static_cast<size_t>(std::clamp<int64_t>(limit, 0, n)));
  std::sort(order.begin(), order.end());
  return order;
}

DatasetSources open_sources(const DataSpec& spec, bool with_val) {
  NativeSources native = spec.format == DataFormat::kImageNet ? open_imagenet(spec, with_val)
                                                              : open_small(spec, with_val);
  DatasetSources sources;
  sources.num_classes = native.num_classes;
  sources.class_names = native.class_names;
  sources.bad_train = native.bad_train;
  sources.bad_val = native.bad_val;
  sources.train = native.train;
  if (native.val) sources.val = apply_limit(native.val, spec.val_limit);
  if (spec.val_split > 0) {
    HeldOutSplit split = hold_out_balanced(*native.train, native.num_classes, spec.val_split);
    sources.train = std::make_shared<SubsetSource>(native.train, std::move(split.kept));
    if (with_val) {
      sources.test = sources.val;
      sources.val = std::make_shared<SubsetSource>(native.train_plain, std::move(split.held_out));
    }
  }
  sources.train = apply_limit(sources.train, spec.train_limit);
  return sources;
}

}  // namespace data

DataSplits open_dataset(const DataSpec& spec, int64_t seed, int64_t rank, int64_t world_size,
                        int64_t val_batch_size, bool uint8_batches) {
  const data::DatasetSources sources = data::open_sources(spec);
  LoaderOptions train;
  train.batch_size = spec.batch_size;
  train.workers = spec.workers;
  train.prefetch = spec.prefetch;
  train.shuffle = true;
  train.drop_last = false;
  train.seed = seed;
  train.rank = rank;
  train.world_size = world_size;
  train.pad_shards = true;
  train.skip_bad = spec.on_bad_image != BadImagePolicy::kFail;
  train.uint8_batches = uint8_batches;
  LoaderOptions val = train;
  val.batch_size = val_batch_size > 0 ? val_batch_size : spec.batch_size;
  val.shuffle = false;
  val.pad_shards = false;

  DataSplits splits;
  splits.train = std::make_unique<DataLoader>(sources.train, train, sources.bad_train);
  // Held-out training images: the training scan's bad files were already left out.
  splits.val = std::make_unique<DataLoader>(sources.val, val, sources.test ? 0 : sources.bad_val);
  if (sources.test) {
    splits.test = std::make_unique<DataLoader>(sources.test, val, sources.bad_val);
  }
  splits.num_classes = sources.num_classes;
  splits.class_names = sources.class_names;
  splits.in_channels = sources.train->channels();
  splits.image_size = sources.train->height();
  return splits;
}

}  // namespace ctmq
