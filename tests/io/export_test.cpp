// export_network + ExportedModel: the exported file alone reproduces the live network.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/io/export.h"
#include "ctmq/io/exported_model.h"
#include "ctmq/models/network.h"
#include "ctmq/models/quant_layers.h"
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
  // Codes are bit-packed at every depth 1..8 (version 1 stored 2..8 bits as int8).
  for (const auto& layer : exported.description().at("layers")) {
    const int bits = layer.at("w_bits").get<int>();
    const std::string expected = bits == 1   ? "bits"
                                 : bits <= 8 ? "packed"
                                 : bits < 32 ? "int16"
                                             : "float32";
    EXPECT_EQ(layer.at("encoding").get<std::string>(), expected) << layer.at("name");
  }
  if (p.w == 1) {
    EXPECT_GT(sizes.ratio(), 5.0);
  }
  if (p.w == 4) {
    EXPECT_GT(sizes.ratio(), 4.0);
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

// A version 1 file, as the previous ctmq wrote it: 2..8-bit codes as one int8 each. Made from
// a version 2 file by moving each packed layer's codes to an int8 blob appended at the end (blob
// offsets count from the blob region, which moves with the header).
std::string as_version_1(const std::string& v2, QuantNetworkImpl& net) {
  const auto length = static_cast<size_t>(*reinterpret_cast<const uint64_t*>(v2.data() + 8));
  nlohmann::json header = nlohmann::json::parse(v2.substr(16, length));
  std::string blobs = v2.substr(16 + length);
  std::map<std::string, std::shared_ptr<torch::nn::Module>> modules;
  for (const auto& item : net.named_modules("", false)) modules[item.key()] = item.value();
  for (auto& layer : header["layers"]) {
    if (layer["encoding"] != "packed") continue;
    auto quant =
        std::dynamic_pointer_cast<QuantLayer>(modules.at(layer["name"].get<std::string>()));
    torch::Tensor codes = quant->encode_weight().codes.to(torch::kChar).contiguous();
    while (blobs.size() % 8 != 0) blobs.push_back('\0');
    layer["encoding"] = "int8";
    layer["codes"] = {{"dtype", "int8"},
                      {"shape", codes.sizes().vec()},
                      {"offset", blobs.size()},
                      {"nbytes", codes.numel()}};
    blobs.append(static_cast<const char*>(codes.data_ptr()), codes.numel());
  }
  header["version"] = 1;
  std::string text = header.dump();
  while ((16 + text.size()) % 8 != 0) text.push_back(' ');
  std::string out = v2.substr(0, 8);
  const uint64_t n = text.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  return out + text + blobs;
}

TEST(ExportedModel, Version1FilesStillLoad) {
  const fs::path dir = temp_dir();
  for (int bits : {2, 4, 8}) {
    const NetworkConfig c = config("basic", "lsq", "pact");
    auto net = trained(c, bits, bits);
    const std::string v2 = (dir / "v2.ctmqx").string();
    export_network(*net, c, v2);
    const std::string v1 = (dir / "v1.ctmqx").string();
    write_file_atomic(v1, as_version_1(read_file(v2), *net));
    ExportedModel old = ExportedModel::load(v1);
    EXPECT_EQ(old.description().at("version"), 1);
    EXPECT_GT(fs::file_size(v1), fs::file_size(v2));
    torch::manual_seed(13);
    torch::Tensor x = torch::randn({4, 1, 12, 12});
    torch::Tensor live;
    {
      torch::NoGradGuard no_grad;
      live = net->forward(x);
    }
    EXPECT_TRUE(torch::equal(old.forward(x), ExportedModel::load(v2).forward(x))) << bits;
    EXPECT_LT((old.forward(x) - live).abs().max().item<double>(), 1e-4) << bits;
  }
  fs::remove_all(dir);
}

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
