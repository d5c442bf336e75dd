#pragma once
// A multi-threaded batch loader over a SampleSource, one per split.
//
// Order: each epoch's sample order is a permutation drawn from (seed, epoch) alone, so a run is
// reproducible and a resumed epoch (start_epoch(e, k)) sees exactly the batches k, k+1, ... it
// would have seen. Augmentation randomness comes from (seed, epoch, sample index), so results
// do not depend on the number of threads or on which thread decodes what.
//
// Sharding by (rank, world_size), as torch.utils.data.DistributedSampler: rank r takes
// positions r, r + W, r + 2W, ... of the epoch order. With pad_shards (the train default) the
// order is first padded by wrapping around to a multiple of W, so every rank has ceil(N / W)
// samples and the same number of batches, at the cost of up to W - 1 samples seen twice per
// epoch. Without it (the val default) shards are disjoint and complete, and ranks differ by at
// most one sample (so by at most one batch): evaluation must sum its counts, not average.
//
// Threads: `workers` threads each build whole batches; at most max(prefetch, workers) batches
// are claimed ahead of the consumer, so memory stays flat. Batches come out in order. The
// destructor and start_epoch stop and join the workers, also when the consumer stopped early.
// workers = 0 decodes on the caller's thread. The loader turns OpenCV's own threading off
// (cv::setNumThreads(0)): its threads are the parallelism.
//
// Bad samples found while decoding: with skip_bad, a sample that fails to decode is replaced by
// the next good sample in dataset order (deterministically), warned about once, and counted;
// otherwise next() throws DataError naming the file.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "ctmq/data/batch_buffer_pool.h"
#include "ctmq/data/sample_source.h"

namespace ctmq {

/// One batch on the CPU (pinned when CUDA is available): images float32 NCHW normalised, or
/// uint8 NCHW pixels still to be normalised (LoaderOptions::uint8_batches); labels int64 [N].
struct Batch {
  torch::Tensor images;
  torch::Tensor labels;
  data::Normalization normalization{};  ///< what turns uint8 images into the network's input
};

/// Moves batches to one device as the network's input. uint8 batches are converted to float32
/// and normalised there, with the same arithmetic as the CPU transforms. The per-channel factors
/// go to the device once, not with every batch: a small pageable copy would stall a CUDA stream.
class DeviceInput {
 public:
  explicit DeviceInput(torch::Device device) : device_(device) {}
  torch::Tensor images(const Batch& batch);
  torch::Tensor labels(const Batch& batch) const;

 private:
  torch::Device device_;
  std::optional<data::Normalization> cached_for_;
  torch::Tensor scale_, shift_;
};

struct LoaderOptions {
  int64_t batch_size = 128;
  int64_t workers = 2;
  int64_t prefetch = 4;
  bool shuffle = true;
  bool drop_last = false;
  int64_t seed = 1;
  int64_t rank = 0;
  int64_t world_size = 1;
  bool pad_shards = true;  ///< every rank gets ceil(N / world_size) samples (see above)
  bool skip_bad = true;    ///< data.on_bad_image: skip (true) or fail
  /// Batches of uint8 pixels, normalised by batch_images_on() on the device: a quarter of the
  /// host-to-device bytes. Chosen for CUDA runs.
  bool uint8_batches = false;
};

class DataLoader {
 public:
  /// `bad_at_scan` counts the files already left out by the index scan, for reporting.
  DataLoader(std::shared_ptr<const data::SampleSource> source, LoaderOptions options,
             int64_t bad_at_scan = 0);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  /// Stops any running epoch and starts `epoch` at batch `first_batch` (for a resume).
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  /// The next batch of the epoch, or nullopt at its end. Rethrows a worker's DataError.
  std::optional<Batch> next();

  int64_t batches_per_epoch() const;
  /// This rank's samples per epoch (padding included).
  int64_t num_samples() const { return shard_size_; }
  /// Files left out at scan time plus distinct samples that failed to decode so far.
  int64_t bad_images_skipped() const;
  /// This rank's dataset indices for `epoch`, in batch order.
  std::vector<int64_t> epoch_indices(int64_t epoch) const;
  const data::SampleSource& source() const { return *source_; }

 private:
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };
  Batch build_batch(int64_t b);
  template <typename Pixel>  // float: normalised samples; uint8_t: pixels
  void load_sample(int64_t index, Pixel* out, int64_t* label);
  void worker_loop();
  void stop_workers();

  std::shared_ptr<const data::SampleSource> source_;
  LoaderOptions options_;
  int64_t bad_at_scan_;
  int64_t shard_size_ = 0;
  bool pin_memory_ = false;
  std::shared_ptr<data::BatchBufferPool> buffers_;  // unpinned batches reuse their memory

  // The running epoch.
  int64_t epoch_ = -1;
  std::vector<int64_t> indices_;
  int64_t num_batches_ = 0;

  std::mutex mutex_;
  std::condition_variable work_cv_;   // workers wait for room in the window
  std::condition_variable ready_cv_;  // the consumer waits for its batch
  int64_t next_claim_ = 0;
  int64_t next_yield_ = 0;
  std::map<int64_t, Slot> ready_;
  bool stop_ = false;
  std::vector<std::thread> threads_;

  mutable std::mutex bad_mutex_;
  std::set<int64_t> bad_decoded_;
};

}  // namespace ctmq
