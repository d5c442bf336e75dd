// What `ctmq eval`, `ctmq export` and `ctmq inspect` check and record, on real checkpoints of tiny
// runs on ImageNet-layout trees of real JPEGs (14 and 10 classes): eval refuses data with other
// classes before scoring, export refuses to write over its own checkpoint, and checkpoints,
// native exports and ONNX models carry the class names, input size, resize and normalisation.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/run_ctmq.h"
#include "ctmq/commands/class_check.h"
#include "ctmq/commands/deploy_metadata.h"
#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/io/exported_model.h"
#ifdef CTMQ_WITH_ONNX
#include "ctmq/onnx/onnx_graph.h"
#endif
#include "data/test_image_tree.h"
#include "support/temp_dir.h"

namespace ctmq::test {
namespace {

std::vector<std::string> class_names(const std::string& prefix, int count) {
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) names.push_back(prefix + (i < 10 ? "0" : "") + std::to_string(i));
  return names;
}

/// ROOT/train/<class>/ with two JPEGs per class and ROOT/val/<class>/ with one, each class its
/// own colour.
void write_tree(const std::string& root, const std::vector<std::string>& classes) {
  for (size_t c = 0; c < classes.size(); ++c) {
    const cv::Scalar colour(static_cast<double>(c * 17 % 256), static_cast<double>(c * 53 % 256),
                            static_cast<double>(255 - c * 11 % 256));
    for (const char* name : {"a.jpg", "b.jpg"}) {
      write_jpeg(root + "/train/" + classes[c] + "/" + name, 48, 40, colour);
    }
    write_jpeg(root + "/val/" + classes[c] + "/v.jpg", 48, 40, colour);
  }
}

/// One epoch of pretraining at image_size 32 with resize 36 on the tree at `root`.
CommandResult pretrain(const std::string& root, int classes, const std::string& out) {
  std::string flags = " --set output_dir=" + out +
                      " --set data.format=imagenet --set data.root=" + root +
                      " --set model.num_classes=" + std::to_string(classes);
  for (const char* s : {"data.image_size=32", "data.resize=36", "data.val_split=0",
                        "data.train_limit=0", "data.val_limit=0", "data.batch_size=16",
                        "data.workers=1", "data.augment=false", "pretrain.epochs=1"}) {
    flags += std::string(" --set ") + s;
  }
  return run_ctmq("--threads 2 --device cpu pretrain" + flags);
}

nlohmann::json json_of(const CommandResult& result) {
  const size_t start = result.output.find('{');
  if (start == std::string::npos) return nlohmann::json::object();
  return nlohmann::json::parse(result.output.substr(start), nullptr, false);
}

bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Two tiny runs shared by the tests of this file: 14 classes and 10 classes.
class DeploymentRecord : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("deployment-record");
    write_tree(tree14(), class_names("c", 14));
    write_tree(tree10(), class_names("c", 10));
    write_tree(renamed14(), class_names("d", 14));
    trained14_ = pretrain(tree14(), 14, run14());
    trained10_ = pretrain(tree10(), 10, run10());
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(trained14_.exit_code, 0) << trained14_.output;
    ASSERT_EQ(trained10_.exit_code, 0) << trained10_.output;
  }
  static std::string tree14() { return *dir_ / "tree14"; }
  static std::string tree10() { return *dir_ / "tree10"; }
  static std::string renamed14() { return *dir_ / "renamed14"; }
  static std::string run14() { return *dir_ / "run14"; }
  static std::string run10() { return *dir_ / "run10"; }
  static std::string checkpoint14() { return run14() + "/checkpoints/pretrain.pt"; }
  static std::string checkpoint10() { return run10() + "/checkpoints/pretrain.pt"; }

  static TempDir* dir_;
  static CommandResult trained14_, trained10_;
};

TempDir* DeploymentRecord::dir_ = nullptr;
CommandResult DeploymentRecord::trained14_;
CommandResult DeploymentRecord::trained10_;

TEST_F(DeploymentRecord, EvalScoresACheckpointOnDataWithItsClasses) {
  const CommandResult scored =
      run_ctmq("--threads 2 eval --json --device cpu --checkpoint " + checkpoint14());
  ASSERT_EQ(scored.exit_code, 0) << scored.output;
  EXPECT_EQ(json_of(scored).value("images", 0), 14) << scored.output;
}

TEST_F(DeploymentRecord, EvalRefusesATreeWithFewerClassesThanTheCheckpoint) {
  // The run's spec with the data root and class count of a 10-class tree: before, Top-1 0%.
  for (const std::string& flags : {" --set data.root=" + tree10() + " --set model.num_classes=10",
                                   " --data " + tree10() + " --format imagenet"}) {
    const CommandResult r = run_ctmq("eval --device cpu --checkpoint " + checkpoint14() + flags);
    EXPECT_EQ(r.exit_code, 2) << flags << "\n" << r.output;
    EXPECT_TRUE(mentions(r.output, "ctmq: error: checkpoint " + checkpoint14() +
                                       " predicts 14 classes but " + tree10() +
                                       " (imagenet) has 10"))
        << r.output;
    EXPECT_FALSE(mentions(r.output, "top1")) << r.output;
  }
}

TEST_F(DeploymentRecord, EvalRefusesATreeWithMoreClassesThanTheCheckpoint) {
  // Before: LibTorch's "Target 10 is out of bounds" and a stack trace.
  const CommandResult r = run_ctmq("eval --device cpu --checkpoint " + checkpoint10() + " --data " +
                                   tree14() + " --format imagenet");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(mentions(r.output, "checkpoint " + checkpoint10() + " predicts 10 classes but " +
                                     tree14() + " (imagenet) has 14"))
      << r.output;
  EXPECT_FALSE(mentions(r.output, "out of bounds")) << r.output;
}

TEST_F(DeploymentRecord, EvalRefusesASpecClassCountOtherThanTheCheckpoints) {
  const CommandResult r = run_ctmq("eval --device cpu --checkpoint " + checkpoint14() +
                                   " --set model.num_classes=1000");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(mentions(r.output, "/model/num_classes: the spec says 1000 but checkpoint " +
                                     checkpoint14() + " predicts 14 classes"))
      << r.output;
}

TEST_F(DeploymentRecord, EvalRefusesATreeWhoseClassNamesDiffer) {
  const CommandResult r = run_ctmq("eval --device cpu --checkpoint " + checkpoint14() + " --data " +
                                   renamed14() + " --format imagenet");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(mentions(r.output, "its class 0 is 'c00', the data's is 'd00'")) << r.output;
  EXPECT_TRUE(mentions(r.output, renamed14())) << r.output;
}

TEST_F(DeploymentRecord, CheckpointsRecordWhatADeploymentNeeds) {
  const CommandResult r = run_ctmq("inspect --json " + checkpoint14());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json meta = json_of(r).at("meta");
  EXPECT_EQ(meta.at("class_names").get<std::vector<std::string>>(), class_names("c", 14));
  EXPECT_EQ(meta.at("image_size"), 32);
  EXPECT_EQ(meta.at("resize"), 36);
  EXPECT_EQ(meta.at("channels"), 3);
  EXPECT_EQ(meta.at("normalization").at("mean").size(), 3u);
  EXPECT_NEAR(meta.at("normalization").at("std")[0].get<double>(), 0.229, 1e-6);
  const CommandResult text = run_ctmq("inspect " + checkpoint14());
  EXPECT_TRUE(mentions(text.output, "resize: 36")) << text.output;
}

TEST_F(DeploymentRecord, ExportRefusesToWriteOverItsCheckpoint) {
  const std::string before = read_file(checkpoint14());
  const std::filesystem::path link = *dir_ / "link.pt";
  std::filesystem::create_symlink(checkpoint14(), link);
  for (const std::string& out :
       {checkpoint14(), run14() + "/checkpoints/../checkpoints/./pretrain.pt", link.string()}) {
    for (const char* format : {"native", "onnx"}) {
      const CommandResult r = run_ctmq("export --format " + std::string(format) + " --checkpoint " +
                                       checkpoint14() + " --out " + out);
      EXPECT_EQ(r.exit_code, 2) << out << "\n" << r.output;
      EXPECT_TRUE(mentions(r.output, "ctmq: error: --out " + out + " is the checkpoint"))
          << r.output;
    }
  }
  EXPECT_EQ(read_file(checkpoint14()), before) << "the checkpoint changed";
  const CommandResult still = run_ctmq("inspect " + checkpoint14());
  EXPECT_EQ(still.exit_code, 0) << still.output;
}

TEST_F(DeploymentRecord, NativeExportCarriesTheDeploymentAndInspectReadsIt) {
  const std::string out = *dir_ / "model14.ctmqx";
  const CommandResult exported =
      run_ctmq("export --checkpoint " + checkpoint14() + " --out " + out);
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const nlohmann::json deployment = ExportedModel::load(out).deployment();
  EXPECT_EQ(deployment.at("class_names").get<std::vector<std::string>>(), class_names("c", 14));
  EXPECT_EQ(deployment.at("image_size"), 32);
  EXPECT_EQ(deployment.at("resize"), 36);
  EXPECT_EQ(deployment.at("channels"), 3);
  EXPECT_EQ(deployment.at("dataset"), "imagenet");
  EXPECT_TRUE(
      mentions(deployment.at("preprocessing").get<std::string>(), "resize the shorter side to 36"));

  const CommandResult inspected = run_ctmq("inspect --json " + out);
  ASSERT_EQ(inspected.exit_code, 0) << inspected.output;
  const nlohmann::json summary = json_of(inspected);
  EXPECT_EQ(summary.value("kind", ""), "export");
  EXPECT_EQ(summary.at("deployment").at("class_names").size(), 14u);
  EXPECT_GT(summary.value("parameters", 0), 0);
  const CommandResult text = run_ctmq("inspect " + out);
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_TRUE(mentions(text.output, "export  " + out)) << text.output;
  EXPECT_TRUE(mentions(text.output, "parameters in total")) << text.output;

  // The export scores its own classes, and refuses other ones as its checkpoint does.
  const CommandResult scored =
      run_ctmq("eval --exported " + out + " --data " + tree14() + " --format imagenet");
  EXPECT_EQ(scored.exit_code, 0) << scored.output;
  const CommandResult refused =
      run_ctmq("eval --exported " + out + " --data " + tree10() + " --format imagenet");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(mentions(refused.output, "exported model " + out + " predicts 14 classes but " +
                                           tree10() + " (imagenet) has 10"))
      << refused.output;
}

#ifdef CTMQ_WITH_ONNX
TEST_F(DeploymentRecord, OnnxExportCarriesClassNamesAndResizeAndInspectReadsIt) {
  const std::string out = *dir_ / "model14.onnx";
  const CommandResult exported =
      run_ctmq("export --format onnx --checkpoint " + checkpoint14() + " --out " + out);
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  std::map<std::string, std::string> meta;
  for (const auto& [key, value] : read_onnx_summary(read_file(out)).metadata) meta[key] = value;
  EXPECT_EQ(nlohmann::json::parse(meta["class_names"]).get<std::vector<std::string>>(),
            class_names("c", 14));
  EXPECT_EQ(meta["resize"], "36");
  EXPECT_EQ(meta["image_size"], "32");
  EXPECT_EQ(meta["num_classes"], "14");
  EXPECT_EQ(meta["channels"], "3");
  EXPECT_TRUE(mentions(meta["preprocessing"], "resize the shorter side to 36"));

  const CommandResult inspected = run_ctmq("inspect --json " + out);
  ASSERT_EQ(inspected.exit_code, 0) << inspected.output;
  const nlohmann::json summary = json_of(inspected);
  EXPECT_EQ(summary.value("kind", ""), "onnx");
  EXPECT_EQ(summary.value("opset", 0), 13);
  EXPECT_EQ(summary.at("metadata").value("resize", ""), "36");
  const CommandResult text = run_ctmq("inspect " + out);
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_TRUE(mentions(text.output, "onnx model  " + out)) << text.output;
}
#endif

TEST(DeploymentJson, OlderCheckpointsFallBackToWhatTheDatasetFixes) {
  NetworkConfig config;
  config.num_classes = 10;
  config.in_channels = 1;
  // A Fashion-MNIST checkpoint written before checkpoints recorded class names and resize.
  const nlohmann::json fmnist =
      deployment_json({{"dataset", "fashion-mnist"}, {"image_size", 28}}, config);
  EXPECT_EQ(fmnist.at("class_names")[9], "Ankle boot");
  EXPECT_FALSE(fmnist.contains("resize"));
  EXPECT_EQ(fmnist.at("normalization").at("mean").size(), 1u);
  // An ImageNet-layout one: no names to fall back to, and data.resize's default in words.
  config.num_classes = 14;
  config.in_channels = 3;
  const nlohmann::json folders =
      deployment_json({{"dataset", "imagenet"}, {"image_size", 224}}, config);
  EXPECT_FALSE(folders.contains("class_names"));
  EXPECT_FALSE(folders.contains("resize"));
  EXPECT_TRUE(mentions(folders.at("preprocessing").get<std::string>(), "256 by default"));
}

TEST(EvalClassCheck, CountsThenNamesWhereBothSidesKnowThem) {
  const ModelClasses model{"checkpoint m.pt", 3, {"a", "b", "c"}};
  EXPECT_NO_THROW(check_model_classes(model, {"root (imagenet)", 3, {"a", "b", "c"}}));
  EXPECT_NO_THROW(check_model_classes(model, {"root (imagenet)", 3, {}}));
  EXPECT_NO_THROW(check_model_classes({"checkpoint old.pt", 3, {}}, {"root", 3, {"x", "y", "z"}}));
  EXPECT_THROW(check_model_classes(model, {"root", 4, {}}), SpecError);
  try {
    check_model_classes(model, {"root (imagenet)", 3, {"a", "c", "b"}});
    FAIL() << "no error";
  } catch (const SpecError& e) {
    EXPECT_TRUE(mentions(e.what(), "its class 1 is 'b', the data's is 'c'")) << e.what();
  }
  EXPECT_NO_THROW(check_spec_classes(model, 3));
  EXPECT_THROW(check_spec_classes(model, 1000), SpecError);
}

}  // namespace
}  // namespace ctmq::test
