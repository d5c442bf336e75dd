// Feeds valid and invalid command lines to the real binary (as llama.cpp's arg-parser test does).

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "run_ctmq.h"
#include "support/prerequisite.h"

namespace ctmq {
namespace {

using test::run_ctmq;

const std::string kSpecs = std::string(CTMQ_SOURCE_DIR) + "/data/specs/";

TEST(Cli, HelpListsEverySubcommand) {
  auto result = run_ctmq("--help");
  EXPECT_EQ(result.exit_code, 0);
  for (const char* name : {"train", "pretrain", "steps", "cycle", "eval", "plan", "inspect", "data",
                           "export", "bench", "report", "spec"}) {
    EXPECT_NE(result.output.find(name), std::string::npos) << name;
  }
  EXPECT_EQ(run_ctmq("train --help").exit_code, 0);
  EXPECT_EQ(run_ctmq("bench train --help").exit_code, 0);
  EXPECT_EQ(run_ctmq("bench allreduce --help").exit_code, 0);
}

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run_ctmq("").exit_code, 2);
  EXPECT_EQ(run_ctmq("frobnicate").exit_code, 2);
  EXPECT_EQ(run_ctmq("plan --no-such-flag").exit_code, 2);
  auto threads = run_ctmq("--threads -3 plan");
  EXPECT_EQ(threads.exit_code, 2);
  EXPECT_NE(threads.output.find("--threads"), std::string::npos) << threads.output;
  auto device = run_ctmq("--device tpu plan");
  EXPECT_EQ(device.exit_code, 2);
  EXPECT_NE(device.output.find("--device"), std::string::npos) << device.output;
  auto level = run_ctmq("--log-level loud plan");
  EXPECT_EQ(level.exit_code, 2);
  EXPECT_NE(level.output.find("--log-level"), std::string::npos) << level.output;
  EXPECT_EQ(run_ctmq("eval").exit_code, 2);  // needs --checkpoint or --exported
  auto format = run_ctmq("export --checkpoint " CTMQ_BINARY " --out /dev/null --format tflite");
  EXPECT_EQ(format.exit_code, 2);
  EXPECT_NE(format.output.find("--format"), std::string::npos) << format.output;
}

TEST(Cli, EveryUsageErrorIsOneLineWithTheErrorPrefix) {
  // CLI11's refusals go through the same path as ctmq's own errors, for every subcommand.
  const std::vector<std::array<std::string, 2>> cases = {
      {"", "A subcommand is required"},
      {"frobnicate", "frobnicate"},
      {"plan --no-such-flag", "--no-such-flag (see ctmq plan --help)"},
      {"--threads -3 plan", "--threads"},
      {"eval --checkpoint /etc/hostname --limit -1", "--limit: expected at least 0, got -1"},
      {"eval --checkpoint /etc/hostname --split bogus",
       "--split: \"bogus\" is not one of test, train, val (see ctmq eval --help)"},
      {"data check", "--root is required"},
      {"data check --root /tmp --format coco", "--format: \"coco\" is not one of"},
      {"bench loader --images 0", "--images"},
      {"bench infer --random resnet20 --engine gpu", "--engine"},
      {"report --runs", "--runs"},
      {"export --checkpoint /etc/hostname", "--out"}};
  for (const auto& [args, expected] : cases) {
    const auto result = run_ctmq(args);
    EXPECT_EQ(result.exit_code, 2) << args << "\n" << result.output;
    EXPECT_EQ(result.output.rfind("ctmq: error: ", 0), 0u) << args << "\n" << result.output;
    EXPECT_NE(result.output.find(expected), std::string::npos) << args << "\n" << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << args << "\n"
                                                                               << result.output;
  }
  for (const std::string args : {"--help", "eval --help", "data check --help", "bench --help"}) {
    const auto help = run_ctmq(args);
    EXPECT_EQ(help.exit_code, 0) << args << "\n" << help.output;
    EXPECT_NE(help.output.find("Usage:"), std::string::npos) << args << "\n" << help.output;
  }
}

TEST(Cli, SetErrorsNameTheOverride) {
  const auto result =
      run_ctmq("plan --config " + kSpecs + "fmnist-default.json" + " --set data.batch_size=abc");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("ctmq: error: --set data.batch_size=abc: /data/batch_size: expected "
                               "integer, got \"abc\""),
            std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("fmnist-default.json"), std::string::npos) << result.output;
  const auto seed = run_ctmq("spec --set seed=18446744073709551615");
  EXPECT_EQ(seed.exit_code, 2) << seed.output;
  EXPECT_NE(seed.output.find("--set seed=18446744073709551615: /seed: expected an integer of at "
                             "most 9223372036854775807"),
            std::string::npos)
      << seed.output;
  // The plan's checks name the override too.
  const auto teacher = run_ctmq("plan --set distill.teacher=c7-fp");
  EXPECT_EQ(teacher.exit_code, 2) << teacher.output;
  EXPECT_NE(teacher.output.find("--set distill.teacher=c7-fp: /distill/teacher"), std::string::npos)
      << teacher.output;
}

TEST(Cli, BenchAllReduceNeedsSeveralProcessesAndValidFlags) {
  auto alone = run_ctmq("bench allreduce --params 1000");
  EXPECT_EQ(alone.exit_code, 2);
  EXPECT_NE(alone.output.find("WORLD_SIZE"), std::string::npos) << alone.output;
  EXPECT_EQ(run_ctmq("bench allreduce --params 0").exit_code, 2);
  EXPECT_EQ(run_ctmq("bench allreduce --dist-backend mpi").exit_code, 2);
}

TEST(Cli, BenchInferRunsBothEnginesOnARandomW1A1Network) {
  auto result = run_ctmq(
      "bench infer --random resnet20 --block basic --in-channels 1 --classes 10 --batch 2 "
      "--threads 1 --seconds 0.05");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (const char* key : {"\"engine\": \"float\"", "\"engine\": \"xnor\"", "\"images_per_second\"",
                          "\"layers\"", "\"layer3.2.conv2\"", "\"speedup_over_float\""}) {
    EXPECT_NE(result.output.find(key), std::string::npos) << key << "\n" << result.output;
  }
  // ctmq's own --threads applies where bench infer's is not given; bench infer's wins.
  auto global = run_ctmq(
      "--threads 2 bench infer --random resnet20 --in-channels 1 --classes 10 --engine xnor "
      "--seconds 0");
  ASSERT_EQ(global.exit_code, 0) << global.output;
  EXPECT_NE(global.output.find("\"threads\": 2"), std::string::npos) << global.output;
  auto own = run_ctmq(
      "--threads 2 bench infer --threads 1 --random resnet20 --in-channels 1 --classes 10 "
      "--engine xnor --seconds 0");
  ASSERT_EQ(own.exit_code, 0) << own.output;
  EXPECT_NE(own.output.find("\"threads\": 1"), std::string::npos) << own.output;
  EXPECT_EQ(run_ctmq("bench infer --batch 1").exit_code, 2);  // needs --exported or --random
  EXPECT_EQ(run_ctmq("bench infer --random resnet20 --engine gpu").exit_code, 2);
  EXPECT_EQ(run_ctmq("bench infer --random resnet99").exit_code, 2);
  EXPECT_EQ(run_ctmq("eval --checkpoint /etc/hostname --engine fast").exit_code, 2);
  EXPECT_EQ(run_ctmq("eval --checkpoint /etc/hostname --engine xnor").exit_code, 2);
}

TEST(Cli, BenchInferSaveRandomKeepsTheNetworkForOtherRuntimes) {
  const std::string prefix = ::testing::TempDir() + "ctmq-cli-save-random";
  for (const char* ext : {".ctmqx", ".onnx"}) std::filesystem::remove(prefix + ext);
  auto saved = run_ctmq(
      "bench infer --random resnet20 --in-channels 1 --classes 10 --engine xnor --seconds 0 "
      "--save-random " +
      prefix);
  ASSERT_EQ(saved.exit_code, 0) << saved.output;
#ifdef CTMQ_WITH_ONNX
  ASSERT_GT(std::filesystem::file_size(prefix + ".onnx"), 0u);
#else
  EXPECT_FALSE(std::filesystem::exists(prefix + ".onnx"));
  EXPECT_NE(saved.output.find("built without ONNX"), std::string::npos) << saved.output;
#endif
  // The kept native file is an export like any other: bench infer runs it.
  auto reloaded = run_ctmq("bench infer --exported " + prefix + ".ctmqx --engine xnor --seconds 0");
  EXPECT_EQ(reloaded.exit_code, 0) << reloaded.output;
  auto misplaced =
      run_ctmq("bench infer --exported " + prefix + ".ctmqx --save-random " + prefix + "-again");
  EXPECT_EQ(misplaced.exit_code, 2);
  EXPECT_NE(misplaced.output.find("--save-random"), std::string::npos) << misplaced.output;
  EXPECT_FALSE(std::filesystem::exists(prefix + "-again.ctmqx"));
}

std::vector<std::vector<double>> read_logits_csv(const std::string& path) {
  std::vector<std::vector<double>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) row.push_back(std::stod(field));
    rows.push_back(row);
  }
  return rows;
}

// The criterion through the real binary: `eval --logits` of the float path and of the
// XNOR engine on Fashion-MNIST test images, compared line by line: the same class and logits
// within 1e-4 relative on every image.
TEST(Cli, EvalLogitsOfBothEnginesAgreeOnEveryImage) {
  CTMQ_REQUIRE(
      std::filesystem::exists(std::string(CTMQ_FASHION_MNIST_DIR) + "/t10k-images-idx3-ubyte.gz"),
      "dataset-fashion-mnist (" CTMQ_FASHION_MNIST_DIR ")");
  const std::string prefix = ::testing::TempDir() + "ctmq-cli-eval-logits";
  auto saved = run_ctmq(
      "bench infer --random resnet20 --block bireal --in-channels 1 --classes 10 --engine xnor "
      "--seconds 0 --save-random " +
      prefix);
  ASSERT_EQ(saved.exit_code, 0) << saved.output;
  std::vector<std::vector<double>> logits[2];
  const char* engines[2] = {"float", "xnor"};
  for (int e = 0; e < 2; ++e) {
    const std::string csv = prefix + "-" + engines[e] + ".csv";
    auto scored = run_ctmq("eval --exported " + prefix + ".ctmqx --engine " + engines[e] +
                           " --split test --limit 300 --logits " + csv +
                           " --set data.root=" CTMQ_FASHION_MNIST_DIR);
    ASSERT_EQ(scored.exit_code, 0) << scored.output;
    logits[e] = read_logits_csv(csv);
  }
  ASSERT_EQ(logits[0].size(), 300u);
  ASSERT_EQ(logits[1].size(), 300u);
  for (size_t i = 0; i < 300; ++i) {
    const auto& f = logits[0][i];
    const auto& x = logits[1][i];
    ASSERT_EQ(f.size(), 10u);
    ASSERT_EQ(x.size(), 10u);
    double scale = 0, worst = 0;
    for (size_t c = 0; c < 10; ++c) {
      scale = std::max(scale, std::fabs(f[c]));
      worst = std::max(worst, std::fabs(f[c] - x[c]));
    }
    EXPECT_LE(worst, 1e-4 * scale) << "image " << i;
    EXPECT_EQ(std::max_element(f.begin(), f.end()) - f.begin(),
              std::max_element(x.begin(), x.end()) - x.begin())
        << "image " << i;
  }
}

TEST(Cli, PlanPrintsEveryShippedSpec) {
  auto demo = run_ctmq("plan");
  EXPECT_EQ(demo.exit_code, 0) << demo.output;
  EXPECT_NE(demo.output.find("c1-w1a1"), std::string::npos) << demo.output;
  auto full = run_ctmq("plan --config " + kSpecs + "fmnist-resnet20-w1a1.json");
  EXPECT_EQ(full.exit_code, 0) << full.output;
  EXPECT_NE(full.output.find("c2-w1a1"), std::string::npos);
  EXPECT_NE(full.output.find("15 stages"), std::string::npos) << full.output;
  // The ImageNet spec names a cluster path (absent here); the plan itself needs no data.
  auto imagenet = run_ctmq("plan --config " + kSpecs + "imagenet-resnet18-w1a1.json");
  EXPECT_EQ(imagenet.exit_code, 0) << imagenet.output;
  EXPECT_NE(imagenet.output.find("c2-w1a1"), std::string::npos) << imagenet.output;
  auto json = run_ctmq("plan --json --set cycles.count=0 --set steps.bits=[1]");
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_NE(json.output.find("\"id\": \"c0-w1a1\""), std::string::npos) << json.output;
}

TEST(Cli, SpecErrorsNameThePathAndExitTwo) {
  auto result = run_ctmq("plan --set steps.bits=[4,5] --set optimizer.lr=0");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("/optimizer/lr"), std::string::npos) << result.output;
  auto missing = run_ctmq("plan --config /no/such.json");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("/no/such.json"), std::string::npos) << missing.output;
}

TEST(Cli, ChoiceFlagsTakeOnlyTheirNames) {
  // Each of these names a choice that does not exist: CLI11 refuses it before anything runs.
  const std::vector<std::array<std::string, 3>> cases = {
      {"--device gpu plan", "--device", "cuda"},
      {"eval --checkpoint /etc/hostname --data /tmp --format mnist", "--format", "cifar100"},
      {"eval --checkpoint /etc/hostname --split holdout", "--split", "train"},
      {"data check --root /tmp --format coco", "--format", "fashion-mnist"}};
  for (const auto& [args, flag, valid] : cases) {
    auto result = run_ctmq(args);
    EXPECT_EQ(result.exit_code, 2) << args << "\n" << result.output;
    // The message names the flag and the names it takes.
    EXPECT_NE(result.output.find(flag + ":"), std::string::npos) << args << "\n" << result.output;
    EXPECT_NE(result.output.find(valid), std::string::npos) << args << "\n" << result.output;
  }
}

TEST(Cli, OnlyCommandsThatReadDataCheckTheDataRoot) {
  const std::string imagenet = "--config " + kSpecs + "imagenet-resnet18-w1a1.json";
  for (const std::string command : {"plan ", "spec "}) {
    auto result = run_ctmq(command + imagenet);
    EXPECT_EQ(result.exit_code, 0) << command << result.output;
  }
  const std::string tiny = " --set data.root=/no/such/dir --set output_dir=/no/such/run";
  for (const std::string command :
       {"train", "pretrain", "steps", "cycle", "bench train", "bench loader"}) {
    auto result = run_ctmq(command + tiny);
    EXPECT_EQ(result.exit_code, 2) << command << result.output;
    EXPECT_NE(result.output.find("/data/root: directory \"/no/such/dir\" does not exist"),
              std::string::npos)
        << command << result.output;
  }
  auto data_check = run_ctmq("data check --root /no/such/dir");
  EXPECT_EQ(data_check.exit_code, 3) << data_check.output;
  EXPECT_NE(data_check.output.find("/no/such/dir"), std::string::npos) << data_check.output;
}

TEST(Cli, JsonNumberOutOfRangeAndDuplicateKeysAreSpecErrors) {
  const std::string path = ::testing::TempDir() + "ctmq-cli-overflow.json";
  std::ofstream(path) << "{\"name\": \"t\", \"data\": {\"format\": \"fashion-mnist\", "
                         "\"root\": \"/tmp\"},\n \"model\": {\"arch\": \"resnet20\"}, "
                         "\"steps\": {\"bits\": [1], \"lr\": 1e999}}";
  auto overflow = run_ctmq("plan --config " + path);
  EXPECT_EQ(overflow.exit_code, 2) << overflow.output;
  EXPECT_NE(overflow.output.find(path + ": /steps/lr: number 1e999 is out of range (line 2"),
            std::string::npos)
      << overflow.output;
  auto in_set = run_ctmq("spec --set optimizer.lr=1e999");
  EXPECT_EQ(in_set.exit_code, 2) << in_set.output;
  EXPECT_NE(in_set.output.find("--set optimizer.lr=1e999: /optimizer/lr: number 1e999"),
            std::string::npos)
      << in_set.output;

  std::ofstream(path) << "{\"name\": \"t\", \"data\": {\"format\": \"fashion-mnist\", "
                         "\"root\": \"/tmp\", \"batch_size\": 8, \"batch_size\": 9}, "
                         "\"model\": {\"arch\": \"resnet20\"}, \"steps\": {\"bits\": [1]}}";
  auto duplicate = run_ctmq("plan --config " + path);
  EXPECT_EQ(duplicate.exit_code, 2) << duplicate.output;
  EXPECT_NE(duplicate.output.find(path + ": /data/batch_size: duplicate key \"batch_size\""),
            std::string::npos)
      << duplicate.output;
}

TEST(Cli, DataCheckReportsEveryProblemOfEverySplitAndExitsThree) {
  const std::filesystem::path root = ::testing::TempDir() + "ctmq-cli-data-check";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root / "train/n01");  // empty class folder
  std::filesystem::create_directories(root / "train/n02");
  std::ofstream(root / "train/n02/text.jpg") << "not a jpeg";
  std::filesystem::create_directories(root / "val/n01");
  std::ofstream(root / "val/n01/empty.jpg");
  auto result = run_ctmq("data check --root " + root.string());
  EXPECT_EQ(result.exit_code, 3) << result.output;
  for (const char* expected :
       {"train: ERROR empty class folder", "train/n01", "train/n02 (all of its images are bad)",
        "text.jpg: not an image (unrecognised header)", "val: ERROR empty class folder",
        "empty.jpg: empty file", "PROBLEMS FOUND"}) {
    EXPECT_NE(result.output.find(expected), std::string::npos) << expected << "\n" << result.output;
  }
  auto json = run_ctmq("data check --json --root " + root.string());
  EXPECT_EQ(json.exit_code, 3);
  EXPECT_NE(json.output.find("\"errors\""), std::string::npos) << json.output;
  std::filesystem::remove_all(root);
}

TEST(Cli, SpecCommandDumpsResolvedSpecAndDoc) {
  auto dumped = run_ctmq("spec --set seed=7");
  EXPECT_EQ(dumped.exit_code, 0);
  EXPECT_NE(dumped.output.find("\"seed\": 7"), std::string::npos) << dumped.output;
  auto doc = run_ctmq("spec --doc");
  EXPECT_EQ(doc.exit_code, 0);
  EXPECT_NE(doc.output.find("`steps.bits`"), std::string::npos);
}

}  // namespace
}  // namespace ctmq
