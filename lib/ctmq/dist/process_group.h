#pragma once
// A process group for data-parallel training: rendezvous through a c10d TCPStore hosted by rank 0,
// collectives through Gloo (CPU) or NCCL (CUDA, when compiled in). All c10d types stay inside
// process_group.cpp, whose API differs between LibTorch 1.13 and 2.x.

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ctmq/dist/dist_env.h"
#include "ctmq/spec/choices.h"

namespace ctmq {

/// A collective started by DistContext::all_reduce_sum_async; wait() before touching its tensors.
class CollectiveHandle {
 public:
  struct Impl;
  CollectiveHandle() = default;
  explicit CollectiveHandle(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  /// Blocks until done; throws DistError (with rank and operation) if the collective failed.
  void wait();

 private:
  std::shared_ptr<Impl> impl_;  // null for a world of one: nothing to wait for
};

/// One process's membership in the job. Every collective must be called by every rank in the
/// same order. A dead or stalled peer makes the collective throw DistError after at most the
/// `timeout` given to create(), never hang. Not thread-safe.
class DistContext {
 public:
  /// Joins the job. A world of one returns a context whose collectives do nothing and that needs
  /// no store. `device` is where this rank trains (resolve_device): it becomes the current CUDA
  /// device, and NCCL's buffers live there. `backend` auto is NCCL when compiled in and `device`
  /// is CUDA, else Gloo; NCCL needs a CUDA `device`; none is refused. Throws DistError if the
  /// rendezvous fails within `timeout`.
  static std::unique_ptr<DistContext> create(const DistEnv& env, DistBackend backend,
                                             std::chrono::seconds timeout,
                                             const torch::Device& device = torch::kCPU);
  ~DistContext();
  DistContext(const DistContext&) = delete;
  DistContext& operator=(const DistContext&) = delete;

  int64_t rank() const { return rank_; }
  int64_t world_size() const { return world_size_; }
  bool is_distributed() const { return world_size_ > 1; }
  /// "none" for a world of one, else "gloo" or "nccl".
  const std::string& backend() const { return backend_; }
  /// Where collective buffers live: CPU for Gloo, the local GPU for NCCL.
  const torch::Device& device() const { return device_; }

  /// Copies rank 0's parameters and buffers into every rank's module, in place.
  void broadcast_module(torch::nn::Module& module);
  /// Replaces each tensor by its average over the ranks, in place.
  void all_reduce_mean_(std::vector<torch::Tensor>& tensors);
  /// Element-wise sum over the ranks, in double precision (for metrics).
  std::vector<double> all_reduce_sum(const std::vector<double>& values);
  /// Sums one dense contiguous tensor over the ranks, in place.
  void all_reduce_sum_(torch::Tensor& tensor);
  /// Starts summing `tensor` in place; the tensor must stay alive until the handle's wait().
  CollectiveHandle all_reduce_sum_async(torch::Tensor tensor);
  /// Copies rank 0's dense contiguous `tensor` to every rank, in place.
  void broadcast_(torch::Tensor& tensor);
  /// Returns when every rank has called it.
  void barrier();

  struct Impl;  // the c10d store and backend; defined in process_group.cpp

 private:
  DistContext(int64_t rank, int64_t world_size);

  int64_t rank_;
  int64_t world_size_;
  std::string backend_ = "none";
  torch::Device device_ = torch::kCPU;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctmq
