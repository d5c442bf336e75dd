#include "ctmq/dist/process_group.h"

#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <spdlog/spdlog.h>
#include <torch/version.h>

#include <cstdlib>
#include <type_traits>
#include <utility>

// LibTorch's Linux builds ship Gloo, but its c10d header hides itself unless the macro is set
// (TorchConfig.cmake does not export it). <gloo/...> comes from Debian's libgloo-dev; the
// official archives lack it (cmake/torch_compat.cmake finds it or says what to do).
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

// NCCL is opt-in: define CTMQ_WITH_NCCL when building against a CUDA LibTorch whose c10d has
// ProcessGroupNCCL (and nccl.h on the include path). Without it "nccl" is refused at run time.
#if defined(CTMQ_WITH_NCCL)
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "ctmq/dist/dist_error.h"
#include "ctmq/dist/flat_tensors.h"

namespace ctmq {
namespace {

// LibTorch 2.0 split c10d::ProcessGroup into a dispatching ProcessGroup and per-device Backends;
// ProcessGroupGloo/NCCL became Backends. Both bases offer the collectives used here unchanged.
#if TORCH_VERSION_MAJOR >= 2
using C10dBackend = c10d::Backend;
#else
using C10dBackend = c10d::ProcessGroup;
#endif

constexpr bool kHaveNccl =
#if defined(CTMQ_WITH_NCCL)
    true;
#else
    false;
#endif

// From LibTorch 2.4 on, TCPStoreOptions::useLibUV defaults to true, and a LibTorch built without
// libuv (Debian's 2.6) then fails every rendezvous. 1.13 has no such member; the classic store
// serves the few connections a training job makes just as well, so ctmq always asks for it.
template <typename Options, typename = void>
struct HasUseLibUV : std::false_type {};
template <typename Options>
struct HasUseLibUV<Options, std::void_t<decltype(std::declval<Options&>().useLibUV)>>
    : std::true_type {};

template <typename Options>
void use_classic_tcp_store(Options& options) {
  if constexpr (HasUseLibUV<Options>::value) options.useLibUV = false;
}

// Makes `device` the process's current CUDA device, through the device-generic guard interface
// so that CPU-only builds compile it too. Without it every rank's first CUDA call (Gloo path
// included) opens a context on GPU 0.
void make_current_device(const torch::Device& device) {
  if (!device.is_cuda()) return;
  c10::impl::getDeviceGuardImpl(device.type())->setDevice(device);
}

bool is_loopback(const std::string& addr) {
  return addr.rfind("127.", 0) == 0 || addr == "localhost" || addr == "::1";
}

std::shared_ptr<::gloo::transport::Device> make_gloo_device(const DistEnv& env) {
  if (!env.gloo_socket_ifname.empty()) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(env.gloo_socket_ifname);
  }
  // A single-node job over loopback must not bind to the hostname's address: on Debian that is
  // 127.0.1.1 or a container address, either of which may not route to 127.0.0.1.
  if (is_loopback(env.master_addr)) {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

std::string describe(const std::exception& e) {
  std::string message = e.what();
  // c10::Error carries a C++ backtrace after the first line; one line is enough for a user.
  auto newline = message.find('\n');
  if (newline != std::string::npos) message.resize(newline);
  return message;
}

}  // namespace

struct DistContext::Impl {
  c10::intrusive_ptr<c10d::Store> store;  // declared first: destroyed after the backend
  c10::intrusive_ptr<C10dBackend> backend;
  std::chrono::milliseconds timeout{0};
};

struct CollectiveHandle::Impl {
  c10::intrusive_ptr<c10d::Work> work;
  std::string operation;
  int64_t rank = 0;
  std::chrono::milliseconds timeout{0};
};

void CollectiveHandle::wait() {
  if (!impl_) return;
  auto impl = std::move(impl_);
  try {
    // The backend's own timeout aborts a collective whose peer stalled; the bound here is a
    // second line of defence so that no wait can last forever.
    impl->work->wait(impl->timeout + std::chrono::seconds(30));
  } catch (const std::exception& e) {
    throw DistError(impl->operation + " failed (a peer process died, stalled past the " +
                        std::to_string(impl->timeout.count() / 1000) + " s timeout, or " +
                        "called a different collective): " + describe(e),
                    impl->rank);
  }
}

DistContext::DistContext(int64_t rank, int64_t world_size) : rank_(rank), world_size_(world_size) {}

DistContext::~DistContext() = default;

std::unique_ptr<DistContext> DistContext::create(const DistEnv& env, DistBackend backend,
                                                 std::chrono::seconds timeout,
                                                 const torch::Device& device) {
  std::unique_ptr<DistContext> context(new DistContext(env.rank, env.world_size));
  if (backend == DistBackend::kNone) {
    throw DistError("backend 'none' has no process group (use auto, gloo or nccl)", env.rank,
                    kExitUsage);
  }
  if (backend == DistBackend::kNccl && !kHaveNccl) {
    throw DistError(
        "backend 'nccl' requested, but this ctmq was built without NCCL support "
        "(rebuild against a CUDA LibTorch with -DCTMQ_WITH_NCCL) ",
        env.rank, kExitUsage);
  }
  if (env.world_size <= 1) return context;
  if (timeout.count() <= 0) {
    throw DistError("the distributed timeout must be positive", env.rank, kExitUsage);
  }
  DistBackend chosen = backend;
  // NCCL only moves CUDA tensors: a rank that trains on the CPU needs Gloo even on a GPU node.
  if (chosen == DistBackend::kAuto) {
    chosen = kHaveNccl && device.is_cuda() ? DistBackend::kNccl : DistBackend::kGloo;
  }
  const std::string chosen_name = choice_name(chosen);
  if (chosen == DistBackend::kNccl && !device.is_cuda()) {
    throw DistError("backend 'nccl' needs a CUDA device, but this rank runs on " + device.str() +
                        " (use --device cuda, or --dist-backend gloo)",
                    env.rank, kExitUsage);
  }

  auto impl = std::make_unique<Impl>();
  impl->timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(env.master_port);
    options.isServer = env.rank == 0;
    options.numWorkers = static_cast<std::size_t>(env.world_size);
    options.waitWorkers = true;
    options.timeout = impl->timeout;
    use_classic_tcp_store(options);
    impl->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
  } catch (const std::exception& e) {
    throw DistError("rendezvous at " + where + " (TCPStore, " + std::to_string(env.world_size) +
                        " processes, " + std::to_string(timeout.count()) +
                        " s timeout) failed: " + describe(e),
                    env.rank);
  }
  try {
    make_current_device(device);
    if (chosen == DistBackend::kGloo) {
      auto options = c10d::ProcessGroupGloo::Options::create(impl->timeout);
      options->devices.push_back(make_gloo_device(env));
      impl->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(
          impl->store, static_cast<int>(env.rank), static_cast<int>(env.world_size), options);
    } else {
#if defined(CTMQ_WITH_NCCL)
      // By default NCCL's wait() returns before the collective ends and a stalled peer is
      // left to a watchdog thread that aborts the whole process (2.x) or to a hang (1.13).
      // Blocking wait makes wait() return when the collective is done and throw once the
      // timeout passes, so NCCL failures become a DistError like Gloo's. A user's own setting
      // wins (overwrite = 0); 1.13 reads the name without the TORCH_ prefix.
      ::setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
      ::setenv("NCCL_BLOCKING_WAIT", "1", 0);
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = impl->timeout;
      impl->backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(
          impl->store, static_cast<int>(env.rank), static_cast<int>(env.world_size), options);
      context->device_ = device;
#endif
    }
  } catch (const DistError&) {
    throw;
  } catch (const std::exception& e) {
    throw DistError(
        "rendezvous at " + where + " failed while connecting the " + chosen_name +
            " process group of " + std::to_string(env.world_size) + " processes (" +
            std::to_string(timeout.count()) +
            " s timeout; did every rank start, with the same MASTER_ADDR and MASTER_PORT?): " +
            describe(e),
        env.rank);
  }
  context->backend_ = chosen_name;
  context->impl_ = std::move(impl);
  spdlog::info("rank {}/{} joined the job at {} ({}, local rank {}, from {})", env.rank,
               env.world_size, where, chosen_name, env.local_rank, env.source);
  return context;
}

CollectiveHandle DistContext::all_reduce_sum_async(torch::Tensor tensor) {
  if (!is_distributed()) return CollectiveHandle();
  if (!tensor.is_contiguous() || tensor.is_sparse()) {
    throw DistError("all_reduce needs a dense contiguous tensor", rank_);
  }
  auto handle = std::make_shared<CollectiveHandle::Impl>();
  handle->operation = "all_reduce of " + std::to_string(tensor.numel()) + " elements";
  handle->rank = rank_;
  handle->timeout = impl_->timeout;
  std::vector<at::Tensor> tensors{std::move(tensor)};
  try {
    handle->work = impl_->backend->allreduce(tensors);
  } catch (const std::exception& e) {
    throw DistError(handle->operation + " could not start: " + describe(e), rank_);
  }
  return CollectiveHandle(std::move(handle));
}

void DistContext::all_reduce_sum_(torch::Tensor& tensor) {
  all_reduce_sum_async(tensor).wait();
}

void DistContext::broadcast_(torch::Tensor& tensor) {
  if (!is_distributed()) return;
  if (!tensor.is_contiguous() || tensor.is_sparse()) {
    throw DistError("broadcast needs a dense contiguous tensor", rank_);
  }
  auto handle = std::make_shared<CollectiveHandle::Impl>();
  handle->operation = "broadcast of " + std::to_string(tensor.numel()) + " elements from rank 0";
  handle->rank = rank_;
  handle->timeout = impl_->timeout;
  std::vector<at::Tensor> tensors{tensor};
  try {
    handle->work = impl_->backend->broadcast(tensors);
  } catch (const std::exception& e) {
    throw DistError(handle->operation + " could not start: " + describe(e), rank_);
  }
  CollectiveHandle(std::move(handle)).wait();
}

void DistContext::barrier() {
  if (!is_distributed()) return;
  auto handle = std::make_shared<CollectiveHandle::Impl>();
  handle->operation = "barrier";
  handle->rank = rank_;
  handle->timeout = impl_->timeout;
  try {
    handle->work = impl_->backend->barrier();
  } catch (const std::exception& e) {
    throw DistError("barrier could not start: " + describe(e), rank_);
  }
  CollectiveHandle(std::move(handle)).wait();
}

void DistContext::broadcast_module(torch::nn::Module& module) {
  if (!is_distributed()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors = module.parameters(/*recurse=*/true);
  for (auto& buffer : module.buffers(/*recurse=*/true)) tensors.push_back(buffer);
  for (const auto& indices : group_by_dtype_and_device(tensors)) {
    std::vector<torch::Tensor> group;
    for (size_t i : indices) group.push_back(tensors[i]);
    auto dtype = group.front().scalar_type();
    auto flat = flatten_tensors(group, dtype == torch::kBool ? torch::kUInt8 : dtype).to(device_);
    broadcast_(flat);
    unflatten_into(flat, group);
  }
}

void DistContext::all_reduce_mean_(std::vector<torch::Tensor>& tensors) {
  if (!is_distributed()) return;
  torch::NoGradGuard no_grad;
  for (const auto& indices : group_by_dtype_and_device(tensors)) {
    std::vector<torch::Tensor> group;
    for (size_t i : indices) group.push_back(tensors[i]);
    auto dtype = group.front().scalar_type();
    if (!c10::isFloatingType(dtype)) {
      throw DistError(
          "all_reduce_mean_ needs floating-point tensors, got " + std::string(c10::toString(dtype)),
          rank_);
    }
    auto flat = flatten_tensors(group, dtype).to(device_);
    all_reduce_sum_(flat);
    flat.div_(static_cast<double>(world_size_));
    unflatten_into(flat, group);
  }
}

std::vector<double> DistContext::all_reduce_sum(const std::vector<double>& values) {
  if (!is_distributed() || values.empty()) return values;
  auto tensor = torch::tensor(values, torch::dtype(torch::kDouble)).to(device_);
  all_reduce_sum_(tensor);
  tensor = tensor.cpu();
  const double* data = tensor.data_ptr<double>();
  return std::vector<double>(data, data + values.size());
}

}  // namespace ctmq
