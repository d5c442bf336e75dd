#include "ctmq/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace ctmq {

double learning_rate_at(const OptimizerSpec& optimizer, double base_lr, int64_t epochs,
                        int64_t steps_per_epoch, int64_t step) {
  const int64_t total = std::max<int64_t>(1, epochs * steps_per_epoch);
  const int64_t warmup = std::min(total, optimizer.warmup_epochs * steps_per_epoch);
  if (step < warmup) return base_lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  if (optimizer.schedule == ScheduleKind::kConstant) return base_lr;
  if (optimizer.schedule == ScheduleKind::kStep) {
    const int64_t epoch = steps_per_epoch > 0 ? step / steps_per_epoch : 0;
    double lr = base_lr;
    for (int64_t milestone : optimizer.milestones) {
      if (epoch >= milestone) lr *= optimizer.gamma;
    }
    return lr;
  }
  // Cosine over the steps after warm-up.
  const double progress = static_cast<double>(step - warmup) /
                          static_cast<double>(std::max<int64_t>(1, total - warmup));
  return 0.5 * base_lr * (1.0 + std::cos(M_PI * std::min(1.0, progress)));
}

}  // namespace ctmq
