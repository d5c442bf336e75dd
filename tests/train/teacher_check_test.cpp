// distill.teacher problems knowable at startup are spec errors (exit 2) before anything trains
// or any file of the run is written: a teacher that cannot teach this spec's student, and a
// stage teacher that a phase command neither finds nor trains. A phase started --from a
// full-precision checkpoint takes it as its "accurate" teacher.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ctmq/io/checkpoint.h"
#include "ctmq/io/manifest.h"
#include "ctmq/io/run_meta.h"
#include "ctmq/spec/spec_parser.h"
#include "run_fixture.h"

namespace ctmq {
namespace {

using test::run_ctmq;
using test::TempDir;
using test::tiny_spec_flags;

/// A checkpoint of the demo spec's network with random weights, for images of `in_channels`
/// and `classes` outputs, at `bits`.
void write_teacher(const std::string& path, int64_t in_channels, int64_t classes, int bits) {
  SpecOptions options;
  options.check_paths = false;
  ModelSpec model = default_spec(options).model;
  model.num_classes = classes;
  const NetworkConfig config = network_config(model, default_spec(options).quant, in_channels);
  auto network = make_network(config);
  network->set_bits(bits, bits);
  StageRecord record;
  record.stage.id = "pretrain";
  record.stage.w_bits = record.stage.a_bits = bits;
  const RunMeta meta{"teacher", "0", 1, DataFormat::kFashionMnist, 28, config};
  save_checkpoint(path, Checkpoint{module_state(*network), stage_checkpoint_meta(meta, record)});
}

bool trained_anything(const std::string& output) {
  return output.find(" epoch 1/") != std::string::npos;
}

class TeacherCheck : public test::FashionMnistTest {};

TEST_F(TeacherCheck, ATeacherThatCannotTeachIsASpecErrorBeforeAnythingIsWritten) {
  TempDir dir("teacher-misfit");
  const std::string rgb = dir / "rgb.pt", hundred = dir / "hundred.pt", text = dir / "text.pt";
  write_teacher(rgb, 3, 10, 32);
  write_teacher(hundred, 1, 100, 32);
  std::ofstream(text) << "not a checkpoint";
  const std::vector<std::pair<std::string, std::string>> cases{
      {rgb, "takes images of 3 channels"},
      {hundred, "has 100 classes, this spec 10"},
      {text, "is not a usable checkpoint"}};
  for (const auto& [teacher, reason] : cases) {
    const std::string run = dir / "run";
    auto result =
        run_ctmq("--threads 2 train " + tiny_spec_flags(run) + " --set distill.teacher=" + teacher);
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_NE(result.output.find("/distill/teacher: "), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(teacher), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(reason), std::string::npos) << result.output;
    EXPECT_FALSE(trained_anything(result.output)) << result.output;
    EXPECT_FALSE(std::filesystem::exists(run + "/manifest.json")) << teacher;
  }
}

TEST_F(TeacherCheck, APhaseFailsAtItsStartWhenItNeitherFindsNorTrainsItsTeacherStage) {
  TempDir dir("teacher-phase");
  const std::string fp = dir / "fp.pt";
  write_teacher(fp, 1, 10, 32);
  auto result = run_ctmq("--threads 2 cycle --from " + fp + " " + tiny_spec_flags(dir / "run") +
                         " --set distill.teacher=pretrain");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("learns from stage pretrain"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("this command does not train it"), std::string::npos)
      << result.output;
  EXPECT_FALSE(trained_anything(result.output)) << result.output;
}

TEST_F(TeacherCheck, StepsFromAFullPrecisionCheckpointTakeItAsTheAccurateTeacher) {
  TempDir dir("teacher-from");
  const std::string fp = dir / "fp.pt", binary = dir / "w1.pt";
  write_teacher(fp, 1, 10, 32);
  write_teacher(binary, 1, 10, 1);
  const std::string flags = " --set steps.bits=[1] --set distill.teacher=accurate";
  const std::string run = dir / "run";
  auto result = run_ctmq("--threads 2 steps --from " + fp + " " + tiny_spec_flags(run) + flags);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("the phase starts --from " + fp), std::string::npos)
      << result.output;
  const Manifest manifest = load_manifest(RunPaths{run});
  const StageRecord* student = manifest.find("c0-w1a1");
  ASSERT_TRUE(student && student->stage.teacher);
  EXPECT_EQ(student->stage.teacher->source, InitSource::checkpoint(fp));

  // A low-bit --from cannot be the accurate teacher: the phase says what to do instead.
  auto low_bit =
      run_ctmq("--threads 2 steps --from " + binary + " " + tiny_spec_flags(dir / "other") + flags);
  EXPECT_EQ(low_bit.exit_code, 2) << low_bit.output;
  EXPECT_NE(low_bit.output.find("is low-bit"), std::string::npos) << low_bit.output;
  EXPECT_NE(low_bit.output.find("set distill.teacher to a full-precision checkpoint file"),
            std::string::npos)
      << low_bit.output;
  EXPECT_FALSE(trained_anything(low_bit.output)) << low_bit.output;
}

TEST_F(TeacherCheck, AFromCheckpointOfOtherDataIsASpecErrorBeforeAnythingIsWritten) {
  TempDir dir("from-misfit");
  const std::string rgb = dir / "rgb.pt", hundred = dir / "hundred.pt", text = dir / "text.pt";
  write_teacher(rgb, 3, 10, 32);
  write_teacher(hundred, 1, 100, 32);
  std::ofstream(text) << "not a checkpoint";
  const std::vector<std::pair<std::string, std::string>> cases{
      {rgb, "the checkpoint takes images of 3 channels, but " CTMQ_FASHION_MNIST_DIR " has 1"},
      {hundred, "the checkpoint has 100 classes, but " CTMQ_FASHION_MNIST_DIR
                " (and model.num_classes) has 10"},
      {text, "not a usable checkpoint"}};
  for (const auto& [from, reason] : cases) {
    const std::string run = dir / "run";
    auto result = run_ctmq("--threads 2 steps --from " + from + " " + tiny_spec_flags(run));
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_NE(result.output.find("ctmq: error: --from " + from + ": " + reason), std::string::npos)
        << result.output;
    // Nothing about quantizers, nothing trained, no run directory.
    EXPECT_EQ(result.output.find("quantizers"), std::string::npos) << result.output;
    EXPECT_FALSE(trained_anything(result.output)) << result.output;
    EXPECT_FALSE(std::filesystem::exists(run)) << from;
  }
}

}  // namespace
}  // namespace ctmq
