#pragma once
// A tiny CTMQ experiment on the real Fashion-MNIST files, run through the real binary.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli/run_ctmq.h"
#include "ctmq/core/atomic_file.h"
#include "support/prerequisite.h"
#include "support/temp_dir.h"

namespace ctmq::test {

/// 256 training and 128 validation images, batch 64: 4 steps per epoch. As --set values. The
/// demo spec's choices for a short run (no augmentation, a held-out validation split, the
/// target-only ladder in the cycle) are pinned back, so tests keep their shape and speed
/// whatever the demo needs.
inline std::vector<std::string> tiny_spec_overrides(const std::string& output_dir) {
  return {"output_dir=" + output_dir, "data.root=" CTMQ_FASHION_MNIST_DIR,
          "data.train_limit=256",     "data.val_limit=128",
          "data.val_split=0",         "data.augment=true",
          "data.batch_size=64",       "data.workers=1",
          "pretrain.epochs=1",        "steps.bits=[2,1]",
          "steps.epochs=1",           "cycles.count=1",
          "cycles.accurate_epochs=1", "cycles.ladder=full"};
}

/// The tiny spec as command-line flags.
inline std::string tiny_spec_flags(const std::string& output_dir) {
  std::string flags;
  for (const auto& assignment : tiny_spec_overrides(output_dir)) {
    flags += (flags.empty() ? "--set " : " --set ") + assignment;
  }
  return flags;
}

inline bool fashion_mnist_available() {
  return std::filesystem::exists(std::string(CTMQ_FASHION_MNIST_DIR) +
                                 "/train-images-idx3-ubyte.gz");
}

/// Base of the tests that train on the real Fashion-MNIST files: skipped by CTMQ_REQUIRE
/// (which fails them under CI) where the package is missing.
class FashionMnistTest : public ::testing::Test {
 protected:
  void SetUp() override { CTMQ_REQUIRE(fashion_mnist_available(), "dataset-fashion-mnist"); }
};

using test::TempDir;

}  // namespace ctmq::test
