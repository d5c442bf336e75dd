#include "ctmq/data/batch_buffer_pool.h"

#include <cstdlib>
#include <new>

namespace ctmq::data {
namespace {

constexpr size_t kAlignment = 64;  // a cache line; also what vectorized kernels like

}  // namespace

std::shared_ptr<BatchBufferPool> BatchBufferPool::create(size_t max_free) {
  return std::shared_ptr<BatchBufferPool>(new BatchBufferPool(max_free));
}

BatchBufferPool::~BatchBufferPool() {
  for (const Buffer& buffer : free_) std::free(buffer.data);
}

torch::Tensor BatchBufferPool::take(at::IntArrayRef sizes, torch::ScalarType dtype) {
  size_t bytes = c10::elementSize(dtype);
  for (int64_t size : sizes) bytes *= static_cast<size_t>(size);
  bytes = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* data = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < free_.size(); ++i) {
      if (free_[i].bytes == bytes) {
        data = free_[i].data;
        free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
  }
  if (data == nullptr) {
    data = std::aligned_alloc(kAlignment, bytes);
    if (data == nullptr) throw std::bad_alloc();
  }
  // The deleter holds the pool, so a batch may outlive the loader that made it.
  std::shared_ptr<BatchBufferPool> self = shared_from_this();
  return torch::from_blob(
      data, sizes, [self, bytes](void* p) { self->give_back(p, bytes); },
      torch::TensorOptions().dtype(dtype));
}

void BatchBufferPool::give_back(void* data, size_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_.size() < max_free_) {
      free_.push_back({data, bytes});
      return;
    }
  }
  std::free(data);
}

size_t BatchBufferPool::idle() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return free_.size();
}

}  // namespace ctmq::data
