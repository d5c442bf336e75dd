#include "ctmq/dist/process_group.h"

#include <gtest/gtest.h>

#include "ctmq/dist/bench_all_reduce.h"
#include "ctmq/dist/dist_error.h"
#include "ctmq/dist/gradient_buckets.h"
#include "multi_process.h"

namespace ctmq {
namespace {

using std::chrono::seconds;

struct Net : torch::nn::Module {
  Net() {
    fc1 = register_module("fc1", torch::nn::Linear(5, 7));
    bn = register_module("bn", torch::nn::BatchNorm1d(7));
    fc2 = register_module("fc2", torch::nn::Linear(7, 3));
  }
  torch::nn::Linear fc1{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
  torch::nn::Linear fc2{nullptr};
};

// The gradients rank `rank` gives its parameters in the bucketer test; parameter 2 has none on
// rank 1.
std::vector<torch::Tensor> rank_grads(const std::vector<torch::Tensor>& params, int64_t rank) {
  torch::manual_seed(100 + rank);
  std::vector<torch::Tensor> grads;
  for (size_t i = 0; i < params.size(); ++i) {
    auto grad = torch::randn(params[i].sizes());
    grads.push_back(i == 2 && rank == 1 ? torch::Tensor() : grad);
  }
  return grads;
}

TEST(DistContext, WorldOfOneDoesNothing) {
  auto context = DistContext::create(DistEnv{}, DistBackend::kAuto, seconds(5));
  EXPECT_FALSE(context->is_distributed());
  EXPECT_EQ(context->rank(), 0);
  EXPECT_EQ(context->world_size(), 1);
  EXPECT_EQ(context->backend(), "none");
  std::vector<torch::Tensor> tensors{torch::ones({3})};
  context->all_reduce_mean_(tensors);
  EXPECT_TRUE(tensors[0].equal(torch::ones({3})));
  EXPECT_EQ(context->all_reduce_sum({1.5, 2.0}), (std::vector<double>{1.5, 2.0}));
  Net net;
  context->broadcast_module(net);
  context->barrier();
}

TEST(DistContext, RejectsBackendsItCannotRun) {
  // Unknown names ("mpi") are the command line's to refuse (tests/cli).
  EXPECT_THROW(DistContext::create(DistEnv{}, DistBackend::kNone, seconds(5)), DistError);
#if !defined(CTMQ_WITH_NCCL)
  try {
    DistContext::create(DistEnv{}, DistBackend::kNccl, seconds(5));
    FAIL() << "nccl accepted in a build without NCCL";
  } catch (const DistError& e) {
    EXPECT_NE(std::string(e.what()).find("NCCL"), std::string::npos);
  }
#endif
}

TEST(DistContext, RendezvousWithAMissingPeerTimesOut) {
  DistEnv env;
  env.world_size = 2;
  env.master_port = test::free_port();
  auto start = std::chrono::steady_clock::now();
  try {
    DistContext::create(env, DistBackend::kGloo, seconds(2));
    FAIL() << "rendezvous without rank 1 succeeded";
  } catch (const DistError& e) {
    EXPECT_NE(std::string(e.what()).find("rank 0"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("rendezvous"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(60));
}

TEST(GradientBucketer, BucketsInReverseOrderWithinTheSizeLimit) {
  Net net;
  auto params = net.parameters();
  GradientBucketer bucketer(params, 64);  // 16 floats: fc1.weight (35) gets a bucket of its own
  const auto& buckets = bucketer.buckets();
  ASSERT_GT(buckets.size(), 2u);
  EXPECT_EQ(buckets.front().front(), params.size() - 1);
  EXPECT_EQ(buckets.back().back(), 0u);
  size_t seen = 0;
  for (const auto& bucket : buckets) {
    int64_t numel = 0;
    for (size_t k : bucket) numel += params[k].numel();
    EXPECT_TRUE(bucket.size() == 1 || numel * 4 <= 64);
    seen += bucket.size();
  }
  EXPECT_EQ(seen, params.size());
}

TEST(Collectives, TwoProcesses) {
  test::TempDir temp;
  const std::string& dir = temp.path();
  auto results = test::run_workers("Collectives", 2, dir, seconds(120));
  for (const auto& r : results) {
    EXPECT_EQ(r.exit_code, 0) << test::describe(results);
    EXPECT_NE(r.log.find("[  PASSED  ] 1 test"), std::string::npos) << test::describe(results);
  }
}

TEST(DistWorker, DISABLED_Collectives) {
  if (!test::in_worker()) GTEST_SKIP() << "runs only inside Collectives.TwoProcesses";
  auto env = detect_dist_env_from_process();
  ASSERT_EQ(env.world_size, 2);
  auto context = DistContext::create(env, DistBackend::kGloo, seconds(30));
  ASSERT_TRUE(context->is_distributed());
  EXPECT_EQ(context->backend(), "gloo");
  const int64_t rank = context->rank();

  // broadcast_module: every rank ends with rank 0's parameters and buffers.
  torch::manual_seed(1);
  Net expected;
  expected.bn->running_mean.fill_(0.25);
  expected.bn->num_batches_tracked.fill_(7);
  torch::manual_seed(1 + rank);
  Net net;
  net.bn->running_mean.fill_(0.25 + rank);
  net.bn->num_batches_tracked.fill_(7 + rank);
  context->broadcast_module(net);
  auto mine = net.named_parameters();
  for (const auto& item : expected.named_parameters()) {
    EXPECT_TRUE(mine[item.key()].equal(item.value())) << item.key();
  }
  auto my_buffers = net.named_buffers();
  for (const auto& item : expected.named_buffers()) {
    EXPECT_TRUE(my_buffers[item.key()].equal(item.value())) << item.key();
  }

  // all_reduce_mean_ over mixed dtypes; all_reduce_sum of metrics.
  std::vector<torch::Tensor> tensors{
      torch::full({3}, static_cast<float>(rank + 1)),
      torch::full({2, 2}, 10.0 * static_cast<double>(rank + 1), torch::kDouble),
      torch::arange(6, torch::kFloat).view({2, 3}) * static_cast<float>(rank)};
  context->all_reduce_mean_(tensors);
  EXPECT_TRUE(tensors[0].allclose(torch::full({3}, 1.5f)));
  EXPECT_TRUE(tensors[1].allclose(torch::full({2, 2}, 15.0, torch::kDouble)));
  EXPECT_EQ(tensors[1].scalar_type(), torch::kDouble);
  EXPECT_TRUE(tensors[2].allclose(torch::arange(6, torch::kFloat).view({2, 3}) * 0.5f));
  auto sums = context->all_reduce_sum({static_cast<double>(rank), 1.0, 0.1});
  ASSERT_EQ(sums.size(), 3u);
  EXPECT_DOUBLE_EQ(sums[0], 1.0);
  EXPECT_DOUBLE_EQ(sums[1], 2.0);
  EXPECT_DOUBLE_EQ(sums[2], 0.2);

  // GradientBucketer with several buckets: the mean of both ranks' gradients, undefined = 0.
  auto params = net.parameters();
  auto grads = rank_grads(params, rank);
  for (size_t i = 0; i < params.size(); ++i) params[i].mutable_grad() = grads[i];
  GradientBucketer bucketer(params, 64);
  ASSERT_GT(bucketer.buckets().size(), 2u);
  bucketer.all_reduce_average(*context);
  auto grads0 = rank_grads(params, 0);
  auto grads1 = rank_grads(params, 1);
  for (size_t i = 0; i < params.size(); ++i) {
    auto other = grads1[i].defined() ? grads1[i] : torch::zeros_like(grads0[i]);
    ASSERT_TRUE(params[i].grad().defined()) << i;
    EXPECT_TRUE(params[i].grad().allclose((grads0[i] + other) / 2, 1e-6, 1e-7)) << i;
  }

  auto bench = bench_all_reduce(*context, 100000, 64 << 10, 3);
  EXPECT_EQ(bench["world_size"], 2);
  EXPECT_GT(bench["mean_ms"].get<double>(), 0.0);
  EXPECT_GT(bench["buckets"].get<int>(), 1);
  context->barrier();
}

}  // namespace
}  // namespace ctmq
