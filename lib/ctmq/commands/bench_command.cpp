#include "ctmq/commands/bench_command.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>

#include "ctmq/commands/bench_loader.h"
#include "ctmq/core/errors.h"
#include "ctmq/data/dataset_factory.h"
#include "ctmq/dist/bench_all_reduce.h"
#include "ctmq/dist/dist_env.h"
#include "ctmq/dist/process_group.h"
#include "ctmq/platform/numerics.h"
#include "ctmq/platform/provenance.h"
#include "ctmq/train/device.h"
#include "ctmq/train/optimizer_factory.h"

namespace ctmq {

nlohmann::json bench_all_reduce_command(int64_t num_params, double bucket_mib, int iters,
                                        DistBackend backend, int64_t timeout_seconds) {
  DistEnv env = detect_dist_env_from_process();
  if (env.world_size < 2) {
    throw SpecError(
        "bench allreduce: needs 2 or more processes (set RANK, WORLD_SIZE, MASTER_ADDR and "
        "MASTER_PORT, or run under torchrun or srun)");
  }
  auto context = DistContext::create(env, backend, std::chrono::seconds(timeout_seconds),
                                     resolve_device(DeviceKind::kAuto, env.local_rank));
  const auto bucket_bytes = static_cast<size_t>(bucket_mib * 1024 * 1024);
  nlohmann::json result = bench_all_reduce(*context, num_params, bucket_bytes, iters);
  result["benchmark"] = "allreduce";
  result["rank"] = context->rank();
  add_provenance(result, context->device().str());
  return result;
}

nlohmann::json bench_train(const ExperimentSpec& spec, const RuntimeOptions& runtime, int64_t steps,
                           int bits) {
  using Clock = std::chrono::steady_clock;
  pin_numerics(resolve_numerics(runtime, spec.train.numerics));
  torch::Device device = resolve_device(runtime.device, 0);
  DataSplits data = open_dataset(spec.data, spec.seed, 0, 1, 0, device.is_cuda());
  torch::manual_seed(static_cast<uint64_t>(spec.seed));
  auto network = make_network(network_config(spec.model, spec.quant, data.in_channels));
  network->to(device);
  network->set_bits(bits, bits);
  network->train();
  auto optimizer = make_optimizer(spec.optimizer, *network, spec.optimizer.lr);
  const int64_t warmup = 3;
  int64_t images = 0, done = 0, epoch = 0;
  Clock::time_point start;
  DeviceInput input(device);
  data.train->start_epoch(epoch);
  while (done < warmup + steps) {
    auto batch = data.train->next();
    if (!batch) {
      data.train->start_epoch(++epoch);
      continue;
    }
    if (done == warmup) start = Clock::now();
    auto logits = network->forward(input.images(*batch));
    auto loss = torch::nn::functional::cross_entropy(logits, input.labels(*batch));
    optimizer->zero_grad();
    loss.backward();
    optimizer->step();
    loss.item<double>();  // waits for the step on an asynchronous device
    if (done >= warmup) images += batch->labels.size(0);
    ++done;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  nlohmann::json result = {{"benchmark", "train"},
                           {"arch", choice_name(spec.model.arch)},
                           {"block", choice_name(spec.model.block)},
                           {"dataset", choice_name(spec.data.format)},
                           {"bits", bits},
                           {"batch_size", spec.data.batch_size},
                           {"workers", spec.data.workers},
                           {"threads", torch::get_num_threads()},
                           {"device", device.str()},
                           {"steps", steps},
                           {"seconds", seconds},
                           {"images_per_second", images / seconds}};
  add_provenance(result, device.str());
  return result;
}

nlohmann::json bench_loader_command(const ExperimentSpec& spec, int64_t threads, int64_t images) {
  nlohmann::json result = bench_loader(spec.data, threads, images);
  add_provenance(result, "cpu");
  return result;
}

}  // namespace ctmq
