#include "ctmq/commands/bench_loader.h"
#include "ctmq/spec/spec_keys.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "cli/run_ctmq.h"
#include "data/test_image_tree.h"

namespace ctmq {
namespace {

TEST(BenchLoader, FakeImagenetIsLoadable) {
  test::TempDir root;
  make_fake_imagenet(root.path(), 2, 3, 1, 120, 90);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(root / "train/n01000001"), {}), 3);
  DataSpec spec = spec_defaults().data;
  spec.format = DataFormat::kImageNet;
  spec.root = root.path();
  spec.image_size = 32;
  spec.batch_size = 4;
  const auto result = bench_loader(spec, 2, 10);
  EXPECT_GE(result["images"].get<int64_t>(), 10);
  EXPECT_GT(result["images_per_s"].get<double>(), 0.0);
}

// ctmq's own --threads applies where bench loader's is not given; bench loader's wins.
TEST(BenchLoader, GlobalThreadsApplyWhereItsOwnAreNotGiven) {
  test::TempDir root;
  make_fake_imagenet(root.path(), 2, 2, 1, 48, 40);
  const std::string flags =
      " bench loader --images 4 --set data.format=imagenet --set data.root=" + root.str() +
      " --set data.image_size=32 --set data.batch_size=2 --set data.val_split=0";
  for (const auto& [args, threads] : {std::pair<std::string, int64_t>{"--threads 2" + flags, 2},
                                      {"--threads 2" + flags + " --threads 1", 1},
                                      {flags.substr(1), 1}}) {
    const auto result = test::run_ctmq(args);
    ASSERT_EQ(result.exit_code, 0) << args << "\n" << result.output;
    const auto json = nlohmann::json::parse(result.output, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << result.output;
    EXPECT_EQ(json.value("threads", int64_t{0}), threads) << args << "\n" << result.output;
  }
}

// The measurement itself, not run by default (bench/loader_bench.sh runs it):
//   CTMQ_BENCH_ROOT=/tmp/fake-imagenet CTMQ_BENCH_THREADS=1,2 CTMQ_BENCH_IMAGES=500
//     test_data --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_Measure*'
// With CTMQ_BENCH_MAKE=classes,per_class it first writes the fake tree.
TEST(BenchLoader, DISABLED_Measure) {
  const char* root = std::getenv("CTMQ_BENCH_ROOT");
  ASSERT_NE(root, nullptr) << "set CTMQ_BENCH_ROOT";
  if (const char* make = std::getenv("CTMQ_BENCH_MAKE"); make && *make) {
    int classes = 0, per_class = 0;
    ASSERT_EQ(std::sscanf(make, "%d,%d", &classes, &per_class), 2);
    make_fake_imagenet(root, classes, per_class, 1);
  }
  DataSpec spec = spec_defaults().data;
  spec.format = DataFormat::kImageNet;
  spec.root = root;
  spec.image_size = 224;
  spec.batch_size = 32;
  const char* images = std::getenv("CTMQ_BENCH_IMAGES");
  const char* threads = std::getenv("CTMQ_BENCH_THREADS");
  std::string list = threads ? threads : "1,2";
  for (size_t at = 0; at < list.size();) {
    const size_t comma = std::min(list.find(',', at), list.size());
    const int64_t t = std::stoll(list.substr(at, comma - at));
    std::cout << bench_loader(spec, t, images ? std::stoll(images) : 500).dump() << std::endl;
    at = comma + 1;
  }
}

}  // namespace
}  // namespace ctmq
