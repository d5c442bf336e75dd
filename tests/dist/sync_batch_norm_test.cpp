#include "ctmq/dist/sync_batch_norm.h"
#include "support/expect_close.h"

#include <gtest/gtest.h>

#include "multi_process.h"

namespace ctmq {
namespace {

using std::chrono::seconds;

constexpr double kMomentum = 0.1;
constexpr double kEps = 1e-5;

// The full batch and loss weights every rank and the reference agree on.
struct Problem {
  torch::Tensor input, loss_weights, weight, bias, running_mean, running_var;
};

Problem make_problem(std::vector<int64_t> shape) {
  torch::manual_seed(7);
  Problem p;
  int64_t channels = shape[1];
  p.input = torch::randn(shape) * 3 + 2;
  p.loss_weights = torch::randn(shape);
  p.weight = torch::rand({channels}) + 0.5;
  p.bias = torch::randn({channels});
  p.running_mean = torch::randn({channels});
  p.running_var = torch::rand({channels}) + 0.5;
  return p;
}

const std::vector<std::vector<int64_t>> kShapes{{8, 3, 4, 5}, {6, 4}};

struct Outcome {
  torch::Tensor output, input_grad, weight_grad, bias_grad, running_mean, running_var;
};

// Runs `sync` (or plain torch::batch_norm when null) on rows [begin, end) of the problem.
Outcome run(const Problem& p, int64_t begin, int64_t end, BatchNormSync* sync) {
  auto input = p.input.narrow(0, begin, end - begin).clone().requires_grad_(true);
  auto weight = p.weight.clone().requires_grad_(true);
  auto bias = p.bias.clone().requires_grad_(true);
  Outcome o;
  o.running_mean = p.running_mean.clone();
  o.running_var = p.running_var.clone();
  o.output =
      sync ? sync->forward(input, weight, bias, o.running_mean, o.running_var, kMomentum, kEps)
           : torch::batch_norm(input, weight, bias, o.running_mean, o.running_var,
                               /*training=*/true, kMomentum, kEps,
                               /*cudnn_enabled=*/false);
  (o.output * p.loss_weights.narrow(0, begin, end - begin)).sum().backward();
  o.input_grad = input.grad();
  o.weight_grad = weight.grad();
  o.bias_grad = bias.grad();
  o.output = o.output.detach();
  return o;
}

// Within `tolerance` of the largest magnitude of `expected` (sums in another order differ by
// ~1e-7 of it; a 2x, a sum/mean mix-up or local statistics by 1e-1 or more).
void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, const char* what,
                  double tolerance = 2e-6) {
  const double scale = expected.abs().max().item<double>();
  test::expect_close(actual, expected, tolerance * scale, /*rtol=*/0.0, what);
}

// Bit for bit: the forward pass of (N, C, H, W) inputs reproduces LibTorch's CPU BatchNorm
// arithmetic (its (N, C) kernel sums in another order: within an ulp there).
void expect_equal(const torch::Tensor& actual, const torch::Tensor& expected, const char* what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  if (actual.dim() < 4) return expect_close(actual, expected, what, 1e-6);
  EXPECT_TRUE(torch::equal(actual, expected))
      << what << ": off by " << (actual - expected).abs().max().item<double>();
}

TEST(GlooSyncBatchNorm, WorldOfOneMatchesBatchNorm) {
  auto context = DistContext::create(DistEnv{}, DistBackend::kAuto, seconds(5));
  GlooSyncBatchNorm sync(*context);
  for (const auto& shape : kShapes) {
    auto p = make_problem(shape);
    auto ours = run(p, 0, shape[0], &sync);
    auto ref = run(p, 0, shape[0], nullptr);
    expect_equal(ours.output, ref.output, "output");
    expect_close(ours.running_mean, ref.running_mean, "running mean", 1e-6);
    expect_close(ours.running_var, ref.running_var, "running var", 1e-6);
    expect_close(ours.input_grad, ref.input_grad, "input grad");
    expect_close(ours.weight_grad, ref.weight_grad, "weight grad");
    expect_close(ours.bias_grad, ref.bias_grad, "bias grad");
    expect_close(ours.running_mean, ref.running_mean, "running mean");
    expect_close(ours.running_var, ref.running_var, "running var");
  }
}

// Under autocast the input and its gradient are fp16: squares of values above 256 and sums of
// gradients under a 65536 loss scale overflow fp16, so statistics and sums are float32.
TEST(GlooSyncBatchNorm, HalfPrecisionInputsAreReducedInFloat) {
  auto context = DistContext::create(DistEnv{}, DistBackend::kAuto, seconds(5));
  GlooSyncBatchNorm sync(*context);
  torch::manual_seed(3);
  auto values = (torch::randn({8, 3, 4, 4}) * 100 + 400).to(torch::kHalf).to(torch::kFloat);
  auto dy = (torch::randn({8, 3, 4, 4}) * 2000).to(torch::kHalf).to(torch::kFloat);
  auto run_bn = [&](torch::ScalarType type, bool ours) {
    auto input = values.to(type).requires_grad_(true);
    auto weight = torch::ones({3}).requires_grad_(true);
    auto bias = torch::zeros({3}).requires_grad_(true);
    auto mean = torch::zeros({3}), var = torch::ones({3});
    auto out = ours ? sync.forward(input, weight, bias, mean, var, kMomentum, kEps)
                    : torch::batch_norm(input, weight, bias, mean, var, true, kMomentum, kEps,
                                        /*cudnn_enabled=*/false);
    EXPECT_EQ(out.scalar_type(), type);
    (out.to(torch::kFloat) * dy).sum().backward();
    EXPECT_EQ(input.grad().scalar_type(), type);
    return std::vector<torch::Tensor>{out.detach().to(torch::kFloat),
                                      input.grad().to(torch::kFloat),
                                      weight.grad(),
                                      bias.grad(),
                                      mean,
                                      var};
  };
  auto half = run_bn(torch::kHalf, true);
  auto ref = run_bn(torch::kFloat, false);
  const char* names[] = {"output",    "input grad",   "weight grad",
                         "bias grad", "running mean", "running var"};
  for (size_t i = 0; i < half.size(); ++i) {
    EXPECT_TRUE(torch::isfinite(half[i]).all().item<bool>()) << names[i];
    expect_close(half[i], ref[i], names[i], 2e-3);  // fp16 rounding of output and grad only
  }
}

TEST(GlooSyncBatchNorm, TwoRanksMatchTheFullBatch) {
  test::TempDir temp;
  const std::string& dir = temp.path();
  auto results = test::run_workers("SyncBatchNorm", 2, dir, seconds(120));
  for (const auto& r : results) ASSERT_EQ(r.exit_code, 0) << test::describe(results);

  for (size_t s = 0; s < kShapes.size(); ++s) {
    auto p = make_problem(kShapes[s]);
    auto ref = run(p, 0, kShapes[s][0], nullptr);
    std::vector<std::vector<torch::Tensor>> per_rank(2);
    for (int rank = 0; rank < 2; ++rank) {
      torch::load(per_rank[rank],
                  dir + "/shape" + std::to_string(s) + "_rank" + std::to_string(rank) + ".pt");
      ASSERT_EQ(per_rank[rank].size(), 6u);
      // Every rank's running statistics equal the full batch's.
      expect_close(per_rank[rank][4], ref.running_mean, "running mean", 1e-6);
      expect_close(per_rank[rank][5], ref.running_var, "running var", 1e-6);
    }
    expect_equal(torch::cat({per_rank[0][0], per_rank[1][0]}), ref.output, "output");
    expect_close(torch::cat({per_rank[0][1], per_rank[1][1]}), ref.input_grad, "input grad");
    // Local weight/bias gradients, as PyTorch's SyncBatchNorm: they add up to the full batch's.
    expect_close(per_rank[0][2] + per_rank[1][2], ref.weight_grad, "weight grad");
    expect_close(per_rank[0][3] + per_rank[1][3], ref.bias_grad, "bias grad");
  }
}

TEST(DistWorker, DISABLED_SyncBatchNorm) {
  if (!test::in_worker()) GTEST_SKIP() << "runs only inside GlooSyncBatchNorm.TwoRanks...";
  auto context =
      DistContext::create(detect_dist_env_from_process(), DistBackend::kGloo, seconds(30));
  GlooSyncBatchNorm sync(*context);
  for (size_t s = 0; s < kShapes.size(); ++s) {
    auto p = make_problem(kShapes[s]);
    int64_t half = kShapes[s][0] / 2;
    auto o = run(p, context->rank() * half, (context->rank() + 1) * half, &sync);
    std::vector<torch::Tensor> saved{o.output,    o.input_grad,   o.weight_grad,
                                     o.bias_grad, o.running_mean, o.running_var};
    torch::save(saved, test::worker_results_dir() + "/shape" + std::to_string(s) + "_rank" +
                           std::to_string(context->rank()) + ".pt");
  }
  context->barrier();
}

}  // namespace
}  // namespace ctmq
