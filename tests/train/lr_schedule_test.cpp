#include <gtest/gtest.h>

#include "ctmq/spec/spec_keys.h"
#include "ctmq/train/lr_schedule.h"

namespace ctmq {
namespace {

TEST(LrSchedule, CosineStartsAtPeakAndEndsNearZero) {
  OptimizerSpec spec = spec_defaults().optimizer;
  spec.schedule = ScheduleKind::kCosine;
  EXPECT_DOUBLE_EQ(learning_rate_at(spec, 0.1, 2, 10, 0), 0.1);
  EXPECT_NEAR(learning_rate_at(spec, 0.1, 2, 10, 10), 0.05, 1e-12);
  EXPECT_LT(learning_rate_at(spec, 0.1, 2, 10, 19), 0.002);
}

TEST(LrSchedule, WarmupIsLinear) {
  OptimizerSpec spec = spec_defaults().optimizer;
  spec.warmup_epochs = 1;
  EXPECT_NEAR(learning_rate_at(spec, 0.1, 3, 10, 0), 0.01, 1e-12);
  EXPECT_NEAR(learning_rate_at(spec, 0.1, 3, 10, 4), 0.05, 1e-12);
  EXPECT_NEAR(learning_rate_at(spec, 0.1, 3, 10, 10), 0.1, 1e-12);
}

TEST(LrSchedule, StepMultipliesAtMilestones) {
  OptimizerSpec spec = spec_defaults().optimizer;
  spec.schedule = ScheduleKind::kStep;
  spec.milestones = {2, 4};
  spec.gamma = 0.5;
  EXPECT_DOUBLE_EQ(learning_rate_at(spec, 0.2, 6, 5, 9), 0.2);
  EXPECT_DOUBLE_EQ(learning_rate_at(spec, 0.2, 6, 5, 10), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate_at(spec, 0.2, 6, 5, 29), 0.05);
}

TEST(LrSchedule, ConstantStays) {
  OptimizerSpec spec = spec_defaults().optimizer;
  spec.schedule = ScheduleKind::kConstant;
  EXPECT_DOUBLE_EQ(learning_rate_at(spec, 0.3, 4, 7, 27), 0.3);
}

}  // namespace
}  // namespace ctmq
