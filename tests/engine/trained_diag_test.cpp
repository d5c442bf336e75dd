// Opt-in: a trained W1A1 export (CTMQ_XNOR_TRAINED=FILE) on Fashion-MNIST's whole test set:
// the criterion (the engine's Top-1 equals the float path's, and its logits agree within
// 1e-4 relative, on every image), and engine and float path each against the network as
// trained run in float64. Prints the counts that docs/engine.md quotes. Skipped without the
// variable: CI has no trained export.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <iostream>

#include "ctmq/data/small_datasets.h"
#include "ctmq/engine/xnor_network.h"
#include "ctmq/io/exported_model.h"

namespace ctmq::test {
namespace {

TEST(XnorTrainedExport, AgreesWithTheFloatPathOnEveryTestImage) {
  const char* path = std::getenv("CTMQ_XNOR_TRAINED");
  if (path == nullptr) GTEST_SKIP() << "set CTMQ_XNOR_TRAINED to a trained W1A1 export";
  ExportedModel model = ExportedModel::load(path);
  ExportedModel model64 = ExportedModel::load(path, ExportedModel::Form::kAsTrained);
  model64.network()->to(torch::kDouble);
  const data::ImageTensorSet test_set = data::read_fashion_mnist(CTMQ_FASHION_MNIST_DIR, false);
  engine::XnorNetwork engine(model.network());
  auto relative = [](const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().amax(1) / b.abs().amax(1);
  };
  int64_t far_float = 0, far_xnor = 0, far_between = 0, beyond_tolerance = 0, bit_equal = 0;
  int64_t top1_float = 0, top1_xnor = 0, top1_between = 0;
  int64_t correct_float = 0, correct_xnor = 0;
  const int64_t n = test_set.images.size(0);
  for (int64_t start = 0; start < n; start += 500) {
    const torch::Tensor x = test_set.images.slice(0, start, start + 500)
                                .to(torch::kFloat)
                                .div(255)
                                .sub(0.2860)
                                .div(0.3530);
    const torch::Tensor f = model.forward(x);
    const torch::Tensor e = engine.forward(x);
    const torch::Tensor d = model64.forward(x.to(torch::kDouble)).to(torch::kFloat);
    far_float += relative(f, d).gt(1e-5).sum().item<int64_t>();
    far_xnor += relative(e, d).gt(1e-5).sum().item<int64_t>();
    far_between += relative(e, f).gt(1e-5).sum().item<int64_t>();
    beyond_tolerance += relative(e, f).gt(1e-4).sum().item<int64_t>();
    bit_equal += e.eq(f).all(1).sum().item<int64_t>();
    top1_float += f.argmax(1).ne(d.argmax(1)).sum().item<int64_t>();
    top1_xnor += e.argmax(1).ne(d.argmax(1)).sum().item<int64_t>();
    top1_between += e.argmax(1).ne(f.argmax(1)).sum().item<int64_t>();
    const torch::Tensor labels = test_set.labels.slice(0, start, start + 500);
    correct_float += f.argmax(1).eq(labels).sum().item<int64_t>();
    correct_xnor += e.argmax(1).eq(labels).sum().item<int64_t>();
  }
  std::cout << "images whose logits differ by > 1e-5 relative / whose Top-1 differs:\n"
            << "  float32 path vs float64: " << far_float << " / " << top1_float << "\n"
            << "  xnor engine  vs float64: " << far_xnor << " / " << top1_xnor << "\n"
            << "  xnor engine  vs float32: " << far_between << " / " << top1_between << "\n"
            << "images whose engine and float32 logits differ by > 1e-4 relative: "
            << beyond_tolerance << "\n"
            << "images whose engine and float32 logits are the same bits: " << bit_equal << "\n"
            << "correct of " << n << ": float32 " << correct_float << ", xnor " << correct_xnor
            << "\n";
  EXPECT_EQ(beyond_tolerance, 0);
  EXPECT_EQ(top1_between, 0);
}

}  // namespace
}  // namespace ctmq::test
