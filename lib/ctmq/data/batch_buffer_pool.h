#pragma once
// Recycles the host memory of finished batches. A batch of 256 ImageNet crops is 154 MB, far
// above what glibc malloc keeps in its heaps, so a fresh tensor per batch is a fresh mmap whose
// 37,000 pages are faulted in and zeroed again: 13% of a one-thread loader's time measured with
// `ctmq bench loader`. Buffers come back here when the last tensor using them is freed.

#include <torch/torch.h>

#include <memory>
#include <mutex>
#include <vector>

namespace ctmq::data {

class BatchBufferPool : public std::enable_shared_from_this<BatchBufferPool> {
 public:
  /// Keeps at most `max_free` idle buffers; more are released to the system.
  static std::shared_ptr<BatchBufferPool> create(size_t max_free);
  ~BatchBufferPool();
  BatchBufferPool(const BatchBufferPool&) = delete;
  BatchBufferPool& operator=(const BatchBufferPool&) = delete;

  /// An uninitialised CPU tensor of `sizes` and `dtype`; its memory returns to the pool when
  /// freed.
  torch::Tensor take(at::IntArrayRef sizes, torch::ScalarType dtype);
  /// Idle buffers held now.
  size_t idle() const;

 private:
  explicit BatchBufferPool(size_t max_free) : max_free_(max_free) {}
  void give_back(void* data, size_t bytes);

  struct Buffer {
    void* data;
    size_t bytes;
  };
  size_t max_free_;
  mutable std::mutex mutex_;
  std::vector<Buffer> free_;
};

}  // namespace ctmq::data
