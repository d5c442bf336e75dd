// A run's train.log holds every line the run logged, those logged before its run directory was
// known included: here the warning about a bad image skipped while the data is opened.

#include <gtest/gtest.h>

#include <string>

#include "cli/run_ctmq.h"
#include "ctmq/core/atomic_file.h"
#include "data/test_image_tree.h"
#include "support/temp_dir.h"

namespace ctmq::test {
namespace {

TEST(RunLog, SkipWarningsForBadImagesReachTrainLog) {
  TempDir root("run-log");
  const std::string tree = root / "tree";
  for (const char* name : {"n01", "n02"}) {
    for (const char* file : {"a.jpg", "b.jpg"}) {
      write_jpeg(tree + "/train/" + name + "/" + file, 40, 36);
    }
    write_jpeg(tree + "/val/" + name + "/v.jpg", 40, 36);
  }
  write_truncated_jpeg(tree + "/train/n02/cut.jpg");
  const std::string run = root / "run";
  std::string flags = " --set output_dir=" + run + " --set data.root=" + tree;
  for (const char* s :
       {"data.format=imagenet", "model.num_classes=2", "data.image_size=32", "data.resize=36",
        "data.val_split=0", "data.train_limit=0", "data.val_limit=0", "data.batch_size=4",
        "data.workers=1", "data.augment=false", "data.on_bad_image=skip", "pretrain.epochs=1"}) {
    flags += std::string(" --set ") + s;
  }
  const auto result = run_ctmq("--threads 2 --device cpu pretrain" + flags);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string warning = "skipping bad image " + tree + "/train/n02/cut.jpg";
  ASSERT_NE(result.output.find(warning), std::string::npos) << result.output;
  const std::string log = read_file(run + "/train.log");
  EXPECT_NE(log.find("[warning] " + warning), std::string::npos) << log;
  // In the order it was logged: before the run's first line.
  EXPECT_LT(log.find(warning), log.find("| run " + run)) << log;
}

}  // namespace
}  // namespace ctmq::test
