#pragma once
// A micro-benchmark of gradient averaging, for `ctmq bench dist`: how long one step's gradient
// all-reduce takes for a model of a given size and bucket size.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>

#include "ctmq/dist/process_group.h"

namespace ctmq {

/// Times GradientBucketer::all_reduce_average on `num_params` float32 gradients split into
/// CNN-like tensors, after two warm-up steps. Every rank must call it with the same arguments.
/// Returns {"world_size", "backend", "num_params", "bucket_bytes", "buckets", "iters",
/// "mean_ms", "min_ms", "max_ms", "gbytes_per_s"} (times are the slowest rank's).
nlohmann::json bench_all_reduce(DistContext& context, int64_t num_params, size_t bucket_bytes,
                                int iters);

}  // namespace ctmq
