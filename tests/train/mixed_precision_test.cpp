// train.amp and train.channels_last: what can be checked without a GPU (the settings, the loss
// scaler's arithmetic, the autocast flags, and channels-last training giving NCHW's numbers).

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <cmath>
#include <limits>
#include <map>

#include "ctmq/core/errors.h"
#include "ctmq/io/checkpoint.h"
#include "ctmq/models/network.h"
#include "ctmq/train/mixed_precision.h"
#include "support/tiny_network.h"

namespace ctmq {
namespace {

TEST(ResolveAmp, OffOnCpu) {
  EXPECT_FALSE(resolve_amp(AmpMode::kOff, torch::kCPU).enabled);
  // A cluster spec still runs on a CPU machine, in float32.
  EXPECT_FALSE(resolve_amp(AmpMode::kBf16, torch::kCPU).enabled);
  EXPECT_FALSE(resolve_amp(AmpMode::kFp16, torch::kCPU).enabled);
  // Unknown values ("fp8") are the spec parser's to refuse (tests/spec).
}

// LibTorch 2.4 deprecated the CUDA-only autocast queries for per-device ones; the test reads
// the state through whichever this LibTorch has (as mixed_precision.cpp sets it).
bool autocast_test_cuda_enabled() {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  return at::autocast::is_autocast_enabled(at::kCUDA);
#else
  return at::autocast::is_enabled();
#endif
}

torch::ScalarType autocast_test_cuda_dtype() {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  return at::autocast::get_autocast_dtype(at::kCUDA);
#else
  return at::autocast::get_autocast_gpu_dtype();
#endif
}

TEST(AutocastScope, SetsAndRestoresTheCudaAutocastState) {
  AmpSetting bf16{true, torch::kBFloat16, false};
  ASSERT_FALSE(autocast_test_cuda_enabled());
  {
    AutocastScope scope(bf16);
    EXPECT_TRUE(autocast_test_cuda_enabled());
    EXPECT_EQ(autocast_test_cuda_dtype(), torch::kBFloat16);
    {
      AutocastScope off(AmpSetting{});  // a disabled scope changes nothing
      EXPECT_TRUE(autocast_test_cuda_enabled());
    }
  }
  EXPECT_FALSE(autocast_test_cuda_enabled());
  EXPECT_EQ(autocast_test_cuda_dtype(), torch::kHalf);  // LibTorch's default
}

std::vector<torch::Tensor> params_with_grads(std::vector<float> grads) {
  std::vector<torch::Tensor> params;
  for (float g : grads) {
    torch::Tensor p = torch::zeros({2});
    p.mutable_grad() = torch::full({2}, g);
    params.push_back(p);
  }
  return params;
}

TEST(LossScaler, UnscalesSkipsNonFiniteStepsAndGrows) {
  LossScaler scaler(true, 1024.0, /*growth_interval=*/2);
  EXPECT_DOUBLE_EQ(scaler.scale(torch::full({}, 0.5)).item<double>(), 512.0);

  auto params = params_with_grads({1024.0f, -2048.0f});
  EXPECT_TRUE(scaler.unscale_and_update(params));
  EXPECT_FLOAT_EQ(params[0].grad()[0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(params[1].grad()[1].item<float>(), -2.0f);
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 1024.0);

  auto overflow = params_with_grads({1.0f, std::numeric_limits<float>::infinity()});
  EXPECT_FALSE(scaler.unscale_and_update(overflow));
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 512.0);
  auto nan = params_with_grads({std::nanf("")});
  EXPECT_FALSE(scaler.unscale_and_update(nan));
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 256.0);

  // Two good steps in a row double the scale.
  for (int i = 0; i < 2; ++i) {
    auto good = params_with_grads({256.0f});
    EXPECT_TRUE(scaler.unscale_and_update(good));
  }
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 512.0);

  LossScaler off(false);
  auto untouched = params_with_grads({std::numeric_limits<float>::infinity()});
  EXPECT_TRUE(off.unscale_and_update(untouched));
  EXPECT_TRUE(torch::equal(off.scale(torch::full({}, 3.0)), torch::full({}, 3.0)));
}

TEST(LossScaler, RestoredScalerContinuesWhereTheSavedOneStood) {
  LossScaler saved(true, 1024.0, /*growth_interval=*/3);
  for (int i = 0; i < 2; ++i) {
    auto good = params_with_grads({1.0f});
    ASSERT_TRUE(saved.unscale_and_update(good));
  }
  LossScaler resumed(true, 65536.0, 3);
  resumed.restore(saved.current_scale(), saved.good_steps());
  EXPECT_DOUBLE_EQ(resumed.current_scale(), 1024.0);
  // The third good step in a row, counted across the resume, doubles the scale.
  auto good = params_with_grads({1.0f});
  ASSERT_TRUE(resumed.unscale_and_update(good));
  EXPECT_DOUBLE_EQ(resumed.current_scale(), 2048.0);
  EXPECT_EQ(resumed.good_steps(), 0);
  EXPECT_THROW(resumed.restore(0.0, 0), Error);
  EXPECT_THROW(resumed.restore(std::numeric_limits<double>::infinity(), 0), Error);
  EXPECT_THROW(resumed.restore(8.0, -1), Error);
}

NetworkConfig small_config(const std::string& block) {
  return test::tiny_network_config(block);
}

// One forward and backward pass from the same weights on the same batch: the logits and every
// gradient, in float64. The backward through 19 training-mode BatchNorms on a batch this small
// amplifies summation-order differences: in float32, LibTorch 2.6 and 2.11's channels-last
// backward on the CPU differed from NCHW by 1.5-9% of a gradient's largest value (1.13: up to
// 0.3%), which hides nothing but leaves no room to tell a layout bug from noise. In float64 the
// same amplification leaves differences many orders below 1e-8; a layout bug moves them by O(1).
struct Pass {
  torch::Tensor logits;
  std::map<std::string, torch::Tensor> grads;
};

Pass forward_backward(QuantNetworkImpl& net, bool channels_last) {
  torch::manual_seed(5);
  torch::Tensor images = torch::randn({8, 1, 12, 12}, torch::kDouble);
  torch::Tensor labels = torch::randint(0, 5, {8}, torch::kLong);
  if (channels_last) {
    convert_to_channels_last(net);
    images = images.contiguous(torch::MemoryFormat::ChannelsLast);
  }
  net.train();
  Pass pass;
  pass.logits = net.forward(images);
  torch::cross_entropy_loss(pass.logits, labels).backward();
  for (const auto& item : net.named_parameters(true)) {
    if (item.value().grad().defined()) pass.grads[item.key()] = item.value().grad();
  }
  return pass;
}

double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / (1e-12 + a.abs().max().item<double>());
}

// Full precision and 4 bits. At 1 bit a value that is zero in exact arithmetic (BatchNorm of a
// constant region) lands on either side of zero depending on the summation order, and its sign
// flips: the layouts legitimately disagree there.
TEST(ChannelsLast, SameLogitsAndGradientsAsNchw) {
  for (const std::string block : {"basic", "bireal"}) {
    for (int bits : {32, 4}) {
      auto reference = make_network(small_config(block));
      auto converted = make_network(small_config(block));
      reference->to(torch::kDouble);
      converted->to(torch::kDouble);
      load_module_state(*converted, module_state(*reference), "reference");
      reference->set_bits(bits, bits);
      converted->set_bits(bits, bits);

      Pass a = forward_backward(*reference, false);
      Pass b = forward_backward(*converted, true);
      for (const auto& item : converted->named_parameters(true)) {
        if (item.value().dim() == 4) {
          EXPECT_TRUE(item.value().is_contiguous(torch::MemoryFormat::ChannelsLast)) << item.key();
        }
      }
      for (const auto& [name, tensor] : module_state(*converted)) {
        EXPECT_TRUE(tensor.is_contiguous()) << name << ": checkpoints hold NCHW tensors";
      }
      const std::string where = block + " W" + std::to_string(bits);
      EXPECT_LT(relative_error(a.logits, b.logits), bits == 32 ? 1e-8 : 1e-5) << where;
      ASSERT_EQ(a.grads.size(), b.grads.size()) << where;
      // At 4 bits the activation quantizers calibrate their range from the first batch in
      // float32 (activation_methods.cpp), summed in each layout's order: the ranges, and all
      // that follows, differ by float32 round-off (~1e-7 relative; measured up to 7e-7).
      const double tolerance = bits == 32 ? 1e-8 : 1e-5;
      for (const auto& [name, grad] : a.grads) {
        EXPECT_LT(relative_error(grad, b.grads.at(name)), tolerance) << where << " " << name;
      }
    }
  }
}

}  // namespace
}  // namespace ctmq
