// Checkpoints across versions: files written before the switch to plain pickles still load, and
// PyTorch's weights-only unpickler (torch.load's default from 2.6 on) accepts new ones.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "ctmq/core/atomic_file.h"
#include "ctmq/io/checkpoint.h"
#include "support/prerequisite.h"

namespace ctmq {
namespace {

// Written by ctmq 267676e's save_checkpoint (torch::pickle_save, TorchScript type tags) from
// the state in fixture_state() below and meta {"stage": "c0-w1a1", "w_bits": 1, "a_bits": 1}.
const std::string kTaggedFixture = CTMQ_SOURCE_DIR "/tests/io/data/checkpoint-v1-tagged.pt";

StateDict fixture_state() {
  return {{"linear.weight", torch::arange(6, torch::kFloat).reshape({2, 3}).div(4)},
          {"linear.bias", torch::tensor({-1.5f, 2.25f})},
          {"bn.num_batches_tracked", torch::tensor(7, torch::kLong)}};
}

std::string compat_temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("ctmq-compat-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

void expect_fixture_contents(const Checkpoint& loaded) {
  EXPECT_EQ(loaded.meta, nlohmann::json({{"stage", "c0-w1a1"}, {"w_bits", 1}, {"a_bits", 1}}));
  const StateDict want = fixture_state();
  ASSERT_EQ(loaded.state.size(), want.size());
  for (const auto& [name, tensor] : want) {
    ASSERT_TRUE(loaded.state.count(name)) << name;
    EXPECT_EQ(loaded.state.at(name).scalar_type(), tensor.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(loaded.state.at(name), tensor)) << name;
  }
}

TEST(CheckpointCompat, ReadsCheckpointsWrittenWithTypeTags) {
  ASSERT_TRUE(std::filesystem::exists(kTaggedFixture)) << kTaggedFixture;
  expect_fixture_contents(load_checkpoint(kTaggedFixture));
}

TEST(CheckpointCompat, NewCheckpointsRoundTripWithoutTypeTags) {
  const std::string path = compat_temp_path("plain.pt");
  save_checkpoint(path, {fixture_state(), {{"stage", "c0-w1a1"}, {"w_bits", 1}, {"a_bits", 1}}});
  expect_fixture_contents(load_checkpoint(path));
  // The global that weights-only unpicklers refuse; the old fixture does name it.
  EXPECT_EQ(read_file(path).find("restore_type_tag"), std::string::npos);
  EXPECT_NE(read_file(kTaggedFixture).find("restore_type_tag"), std::string::npos);
}

TEST(CheckpointCompat, PythonLoadsNewCheckpointsWeightsOnly) {
  CTMQ_REQUIRE(test::python_has_torch(), "python3-torch (" + test::python_with_torch() + ")");
  const std::string path = compat_temp_path("python.pt");
  save_checkpoint(path, {fixture_state(), {{"stage", "c0-w1a1"}, {"w_bits", 1}, {"a_bits", 1}}});
  // weights_only=True explicitly (PyTorch 1.13 has the flag but defaults it off), then the
  // plain call that PyTorch 2.6 users make.
  const std::string script =
      "import json, torch\n"
      "for d in (torch.load('" +
      path + "', weights_only=True), torch.load('" + path +
      "')):\n"
      "    assert d['format'] == 'ctmq-checkpoint' and d['version'] == 1, d\n"
      "    assert json.loads(d['meta'])['stage'] == 'c0-w1a1'\n"
      "    s = d['state']\n"
      "    assert s['linear.weight'].tolist() == [[0, 0.25, 0.5], [0.75, 1, 1.25]], s\n"
      "    assert s['linear.bias'].tolist() == [-1.5, 2.25], s\n"
      "    assert s['bn.num_batches_tracked'].dtype == torch.int64\n"
      "    assert s['bn.num_batches_tracked'].item() == 7\n";
  const std::string script_path = compat_temp_path("load.py");
  write_file_atomic(script_path, script);
  EXPECT_EQ(std::system((test::python_with_torch() + " " + script_path).c_str()), 0);
}

}  // namespace
}  // namespace ctmq
