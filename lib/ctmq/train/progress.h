#pragma once
// Training progress: a one-line bar on a terminal, plain log lines every `log_interval` steps
// when stderr is a file (cluster logs).

#include <chrono>
#include <cstdint>
#include <string>

namespace ctmq {

struct ProgressSnapshot {
  int64_t step = 0;   ///< steps done in this epoch
  int64_t steps = 0;  ///< steps in the epoch
  double loss = 0.0;
  double top1 = 0.0;  ///< percent
  double images_per_second = 0.0;
  double lr = 0.0;
};

class ProgressReporter {
 public:
  ProgressReporter(std::string stage, int64_t epoch, int64_t epochs, int64_t log_interval,
                   bool enabled);
  void update(const ProgressSnapshot& snapshot);
  /// Clears the bar so that the epoch summary starts on a clean line.
  void finish();

 private:
  std::string stage_;
  int64_t epoch_, epochs_, log_interval_;
  bool enabled_, terminal_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace ctmq
