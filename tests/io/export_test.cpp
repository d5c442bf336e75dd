// export_network + ExportedModel: the exported file alone reproduces the live network.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/io/export.h"
#include "ctmq/io/exported_model.h"
#include "ctmq/models/network.h"
#include "support/tiny_network.h"

namespace ctmq {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  fs::path dir =
      fs::temp_directory_path() /
      ("ctmq_test_export_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
       "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::create_directories(dir);
  return dir;
}

NetworkConfig config(const std::string& block, const std::string& wq, const std::string& aq,
                     int first_last_bits = 32) {
  return test::tiny_network_config(block, wq, aq, 5, first_last_bits);
}

// A network trained a few steps at (w, a) so BatchNorm statistics and quantizers are set.
std::shared_ptr<QuantNetworkImpl> trained(const NetworkConfig& c, int w, int a) {
  torch::manual_seed(11);
  auto net = make_network(c);
  net->set_bits(w, a);
  net->train();
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  torch::Tensor x = torch::randn({16, 1, 12, 12});
  torch::Tensor y = torch::randint(0, 5, {16}, torch::kLong);
  for (int i = 0; i < 3; ++i) {
    optimizer.zero_grad();
    torch::cross_entropy_loss(net->forward(x), y).backward();
    optimizer.step();
  }
  net->eval();
  return net;
}

struct Case {
  std::string block, wq, aq;
  int w, a, first_last;
};

class ExportRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(ExportRoundTrip, ExportedModelMatchesLiveNetwork) {
  const Case& p = GetParam();
  const NetworkConfig c = config(p.block, p.wq, p.aq, p.first_last);
  auto net = trained(c, p.w, p.a);
  const std::string path = (temp_dir() / "model.ctmqx").string();
  export_network(*net, c, path);
  ExportedModel exported = ExportedModel::load(path);
  EXPECT_EQ(exported.weight_bits(), p.w);
  EXPECT_EQ(exported.activation_bits(), p.a);

  torch::manual_seed(12);
  torch::Tensor x = torch::randn({8, 1, 12, 12});
  torch::Tensor live;
  {
    torch::NoGradGuard no_grad;
    live = net->forward(x);
  }
  torch::Tensor out = exported.forward(x);
  EXPECT_TRUE(torch::equal(out.argmax(1), live.argmax(1)));
  EXPECT_LT((out - live).abs().max().item<double>(), 1e-4) << out << live;

  const ExportSizes sizes = export_sizes(*net, c);
  EXPECT_EQ(sizes.exported_bytes, static_cast<int64_t>(fs::file_size(path)));
  if (p.w == 1) {
    EXPECT_GT(sizes.ratio(), 5.0);
  }
  if (p.w == 4) {
    EXPECT_GT(sizes.ratio(), 2.5);
  }
  fs::remove_all(fs::path(path).parent_path());
}

INSTANTIATE_TEST_SUITE_P(Depths, ExportRoundTrip,
                         ::testing::Values(Case{"basic", "dorefa", "pact", 4, 4, 32},
                                           Case{"basic", "lsq", "lsq", 2, 3, 8},
                                           Case{"basic", "dorefa", "pact", 1, 1, 32},
                                           Case{"bireal", "lsq", "lsq", 1, 1, 32},
                                           Case{"bireal", "dorefa", "pact", 3, 3, 4},
                                           Case{"basic", "lsq", "pact", 12, 12, 32},
                                           Case{"bireal", "dorefa", "lsq", 32, 32, 32}),
                         [](const auto& info) {
                           const Case& p = info.param;
                           return p.block + "_" + p.wq + "_" + p.aq + "_W" + std::to_string(p.w) +
                                  "A" + std::to_string(p.a) + "_FL" + std::to_string(p.first_last);
                         });

void expect_io_error_naming(const std::string& path) {
  try {
    ExportedModel::load(path);
    FAIL() << "no error for " << path;
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(ExportedModel, BadFilesAreIoErrorsNamingTheFile) {
  const fs::path dir = temp_dir();
  const NetworkConfig c = config("basic", "dorefa", "pact");
  auto net = trained(c, 2, 2);
  const std::string good = (dir / "good.ctmqx").string();
  export_network(*net, c, good);
  const std::string bytes = read_file(good);

  expect_io_error_naming((dir / "missing.ctmqx").string());
  for (size_t keep : {size_t{0}, size_t{5}, size_t{20}, bytes.size() / 2, bytes.size() - 1}) {
    const std::string path = (dir / ("cut" + std::to_string(keep))).string();
    write_file_atomic(path, bytes.substr(0, keep));
    expect_io_error_naming(path);
  }
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  write_file_atomic((dir / "magic").string(), bad_magic);
  expect_io_error_naming((dir / "magic").string());
  std::string bad_json = bytes;
  bad_json[17] = '!';
  write_file_atomic((dir / "json").string(), bad_json);
  expect_io_error_naming((dir / "json").string());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ctmq
