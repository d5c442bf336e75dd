#pragma once
// `ctmq bench train | loader | allreduce`: speed of the parts of a run, as JSON. Torch-free
// (see runtime_options.h).

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ctmq/commands/runtime_options.h"
#include "ctmq/spec/spec.h"

namespace ctmq {

/// `ctmq bench train`: training images per second of the spec's model at `bits`, data included.
nlohmann::json bench_train(const ExperimentSpec& spec, const RuntimeOptions& runtime, int64_t steps,
                           int bits);

/// `ctmq bench loader`: images per second of the spec's training transform.
nlohmann::json bench_loader_command(const ExperimentSpec& spec, int64_t threads, int64_t images);

/// `ctmq bench allreduce`: time of one step's bucketed gradient all-reduce for `num_params`
/// float32 gradients, in the process group of the environment (torchrun or Slurm variables);
/// run one process per rank.
nlohmann::json bench_all_reduce_command(int64_t num_params, double bucket_mib, int iters,
                                        DistBackend backend, int64_t timeout_seconds);

}  // namespace ctmq
