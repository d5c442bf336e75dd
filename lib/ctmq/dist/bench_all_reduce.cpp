#include "ctmq/dist/bench_all_reduce.h"

#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "ctmq/dist/dist_error.h"
#include "ctmq/dist/gradient_buckets.h"

namespace ctmq {
namespace {

// Parameter sizes cycling like a ResNet's: conv kernels of several sizes, then BN vectors.
std::vector<torch::Tensor> fake_parameters(int64_t num_params, const torch::Device& device) {
  static const int64_t kPattern[] = {36864, 64, 64, 147456, 128, 128, 589824, 256, 256, 2304};
  std::vector<torch::Tensor> params;
  int64_t left = num_params;
  for (size_t i = 0; left > 0; ++i) {
    int64_t n = std::min(left, kPattern[i % (sizeof(kPattern) / sizeof(kPattern[0]))]);
    auto param = torch::zeros({n}, torch::dtype(torch::kFloat).device(device));
    param.mutable_grad() = torch::randn({n}, param.options());
    params.push_back(param);
    left -= n;
  }
  return params;
}

// NCCL's wait() only orders the current CUDA stream after the collective and returns at once:
// without a device synchronisation the clock would time the launch, not the transfer.
void finish_device_work(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

}  // namespace

nlohmann::json bench_all_reduce(DistContext& context, int64_t num_params, size_t bucket_bytes,
                                int iters) {
  if (num_params <= 0 || iters <= 0 || bucket_bytes == 0) {
    throw DistError("bench_all_reduce needs positive num_params, bucket_bytes and iters",
                    context.rank(), kExitUsage);
  }
  GradientBucketer bucketer(fake_parameters(num_params, context.device()), bucket_bytes);
  for (int i = 0; i < 2; ++i) bucketer.all_reduce_average(context);
  finish_device_work(context.device());
  context.barrier();

  std::vector<double> times_ms;
  for (int i = 0; i < iters; ++i) {
    auto start = std::chrono::steady_clock::now();
    bucketer.all_reduce_average(context);
    finish_device_work(context.device());
    auto stop = std::chrono::steady_clock::now();
    times_ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
  }
  // A step is as slow as its slowest rank: take the per-iteration maximum over ranks.
  double total = 0, fastest = 0, slowest = 0;
  for (int i = 0; i < iters; ++i) {
    std::vector<double> mine(static_cast<size_t>(context.world_size()), 0.0);
    mine[static_cast<size_t>(context.rank())] = times_ms[static_cast<size_t>(i)];
    auto all = context.all_reduce_sum(mine);
    double step = *std::max_element(all.begin(), all.end());
    total += step;
    fastest = i == 0 ? step : std::min(fastest, step);
    slowest = std::max(slowest, step);
  }
  double mean_ms = total / iters;
  double gbytes = static_cast<double>(num_params) * sizeof(float) / 1e9;
  return {{"world_size", context.world_size()},
          {"backend", context.backend()},
          {"num_params", num_params},
          {"bucket_bytes", bucket_bytes},
          {"buckets", bucketer.buckets().size()},
          {"iters", iters},
          {"mean_ms", mean_ms},
          {"min_ms", fastest},
          {"max_ms", slowest},
          {"gbytes_per_s", mean_ms > 0 ? gbytes / (mean_ms / 1e3) : 0.0}};
}

}  // namespace ctmq
