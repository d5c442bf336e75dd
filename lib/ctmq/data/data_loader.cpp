#include "ctmq/data/data_loader.h"

#include <spdlog/spdlog.h>
#include <torch/cuda.h>

#include <algorithm>
#include <opencv2/core.hpp>
#include <type_traits>

#include "ctmq/core/errors.h"
#include "ctmq/data/rng.h"

namespace ctmq {

namespace {
// Distinguishes the order stream from the augmentation stream of the same seed.
constexpr uint64_t kOrderSalt = 0x6f72646572ULL;
constexpr int kMaxSubstitutes = 64;
}  // namespace

DataLoader::DataLoader(std::shared_ptr<const data::SampleSource> source, LoaderOptions options,
                       int64_t bad_at_scan)
    : source_(std::move(source)), options_(options), bad_at_scan_(bad_at_scan) {
  if (options_.batch_size < 1) throw Error("DataLoader: batch_size must be at least 1");
  if (options_.world_size < 1 || options_.rank < 0 || options_.rank >= options_.world_size) {
    throw Error("DataLoader: rank " + std::to_string(options_.rank) + " is outside world size " +
                std::to_string(options_.world_size));
  }
  const int64_t n = source_->size(), w = options_.world_size;
  shard_size_ = options_.pad_shards ? (n + w - 1) / w : (n - options_.rank + w - 1) / w;
  pin_memory_ = torch::cuda::is_available();
  // Batches in flight: the window of each worker, the one being consumed, the one just freed.
  buffers_ = data::BatchBufferPool::create(
      static_cast<size_t>(std::max<int64_t>({options_.prefetch, options_.workers, 1}) + 2));
  cv::setNumThreads(0);
}

DataLoader::~DataLoader() {
  stop_workers();
}

int64_t DataLoader::batches_per_epoch() const {
  const int64_t bs = options_.batch_size;
  return options_.drop_last ? shard_size_ / bs : (shard_size_ + bs - 1) / bs;
}

int64_t DataLoader::bad_images_skipped() const {
  std::lock_guard<std::mutex> lock(bad_mutex_);
  return bad_at_scan_ + static_cast<int64_t>(bad_decoded_.size());
}

std::vector<int64_t> DataLoader::epoch_indices(int64_t epoch) const {
  const int64_t n = source_->size(), w = options_.world_size;
  const auto order =
      data::permutation(n, data::mix_seed(options_.seed, epoch, kOrderSalt), options_.shuffle);
  std::vector<int64_t> mine;
  mine.reserve(shard_size_);
  const int64_t total = options_.pad_shards ? shard_size_ * w : n;
  for (int64_t pos = options_.rank; pos < total; pos += w) mine.push_back(order[pos % n]);
  return mine;
}

void DataLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  stop_workers();
  epoch_ = epoch;
  indices_ = epoch_indices(epoch);
  num_batches_ = batches_per_epoch();
  next_claim_ = next_yield_ = std::clamp<int64_t>(first_batch, 0, num_batches_);
  ready_.clear();
  stop_ = false;
  for (int64_t t = 0; t < options_.workers; ++t) threads_.emplace_back([this] { worker_loop(); });
}

std::optional<Batch> DataLoader::next() {
  if (epoch_ < 0) throw Error("DataLoader::next() called before start_epoch()");
  if (next_yield_ >= num_batches_) return std::nullopt;
  if (threads_.empty()) return build_batch(next_yield_++);
  Slot slot;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_cv_.wait(lock, [&] { return ready_.count(next_yield_) > 0; });
    auto it = ready_.find(next_yield_);
    slot = std::move(it->second);
    ready_.erase(it);
    ++next_yield_;
  }
  work_cv_.notify_all();
  if (slot.error) std::rethrow_exception(slot.error);
  return std::move(slot.batch);
}

void DataLoader::worker_loop() {
  const int64_t window = std::max<int64_t>({options_.prefetch, options_.workers, 1});
  for (;;) {
    int64_t b;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(lock, [&] {
        return stop_ || next_claim_ >= num_batches_ || next_claim_ < next_yield_ + window;
      });
      if (stop_ || next_claim_ >= num_batches_) return;
      b = next_claim_++;
    }
    Slot slot;
    try {
      slot.batch = build_batch(b);
    } catch (...) {
      slot.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(b, std::move(slot));
    }
    ready_cv_.notify_all();
  }
}

void DataLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

Batch DataLoader::build_batch(int64_t b) {
  const int64_t begin = b * options_.batch_size;
  const int64_t end = std::min<int64_t>(begin + options_.batch_size, indices_.size());
  const int64_t count = end - begin;
  const int64_t sample_numel = source_->channels() * source_->height() * source_->width();
  Batch batch;
  const std::vector<int64_t> shape{count, source_->channels(), source_->height(), source_->width()};
  const torch::ScalarType dtype = options_.uint8_batches ? torch::kUInt8 : torch::kFloat32;
  batch.images = pin_memory_
                     ? torch::empty(shape, torch::TensorOptions().dtype(dtype).pinned_memory(true))
                     : buffers_->take(shape, dtype);
  batch.labels = torch::empty({count}, torch::TensorOptions().dtype(torch::kInt64));
  batch.normalization = source_->normalization();
  int64_t* labels = batch.labels.data_ptr<int64_t>();
  for (int64_t j = 0; j < count; ++j) {
    if (options_.uint8_batches) {
      load_sample(indices_[begin + j], batch.images.data_ptr<uint8_t>() + j * sample_numel,
                  labels + j);
    } else {
      load_sample(indices_[begin + j], batch.images.data_ptr<float>() + j * sample_numel,
                  labels + j);
    }
  }
  return batch;
}

template <typename Pixel>
void DataLoader::load_sample(int64_t index, Pixel* out, int64_t* label) {
  const int64_t n = source_->size();
  for (int attempt = 0; attempt < kMaxSubstitutes && attempt < n; ++attempt) {
    const int64_t candidate = (index + attempt) % n;
    try {
      const uint64_t seed = data::mix_seed(options_.seed, epoch_, candidate);
      if constexpr (std::is_same_v<Pixel, uint8_t>) {
        source_->load_pixels(candidate, seed, out);
      } else {
        source_->load(candidate, seed, out);
      }
      *label = source_->label(candidate);
      return;
    } catch (const data::BadSampleError& e) {
      if (!options_.skip_bad) {
        throw DataError(e.path() + ": " + e.reason() + " (data.on_bad_image = fail)");
      }
      std::lock_guard<std::mutex> lock(bad_mutex_);
      if (bad_decoded_.insert(candidate).second) {
        spdlog::warn("skipping bad image {}: {}", e.path(), e.reason());
      }
    }
  }
  throw DataError("too many consecutive bad images after " + source_->describe(index));
}

torch::Tensor DeviceInput::images(const Batch& batch) {
  torch::Tensor images = batch.images.to(device_, /*non_blocking=*/true);
  if (images.scalar_type() != torch::kUInt8) return images;
  const data::Normalization& norm = batch.normalization;
  const int64_t channels = images.size(1);
  const bool cached = cached_for_ && cached_for_->mean == norm.mean &&
                      cached_for_->std == norm.std && scale_.size(1) == channels;
  if (!cached) {
    // (v / 255 - mean) / std as v * scale + shift, with scale and shift rounded to float exactly
    // as the CPU transforms round them.
    std::vector<float> scale(static_cast<size_t>(channels)), shift(static_cast<size_t>(channels));
    for (size_t c = 0; c < scale.size(); ++c) {
      scale[c] = 1.f / (255.f * norm.std[c]);
      shift[c] = -norm.mean[c] / norm.std[c];
    }
    scale_ = torch::tensor(scale).view({1, channels, 1, 1}).to(device_);
    shift_ = torch::tensor(shift).view({1, channels, 1, 1}).to(device_);
    cached_for_ = norm;
  }
  return images.to(torch::kFloat32).mul_(scale_).add_(shift_);
}

torch::Tensor DeviceInput::labels(const Batch& batch) const {
  return batch.labels.to(device_, /*non_blocking=*/true);
}

}  // namespace ctmq
