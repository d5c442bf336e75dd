#include "ctmq/train/progress.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>

namespace ctmq {

ProgressReporter::ProgressReporter(std::string stage, int64_t epoch, int64_t epochs,
                                   int64_t log_interval, bool enabled)
    : stage_(std::move(stage)),
      epoch_(epoch),
      epochs_(epochs),
      log_interval_(log_interval),
      enabled_(enabled),
      terminal_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void ProgressReporter::update(const ProgressSnapshot& s) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double left = s.step > 0 ? elapsed / s.step * (s.steps - s.step) : 0.0;
  if (terminal_) {
    // Redrawing more than ~10 times a second costs time and shows nothing new.
    if (s.step != s.steps && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const int width = 24;
    int filled = s.steps > 0 ? static_cast<int>(width * s.step / s.steps) : 0;
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::fprintf(stderr,
                 "\r%-10s epoch %lld/%lld [%s] %lld/%lld loss %.4f top1 %5.2f%% %6.0f img/s "
                 "lr %.3g left %.0fs   ",
                 stage_.c_str(), static_cast<long long>(epoch_ + 1),
                 static_cast<long long>(epochs_), bar.c_str(), static_cast<long long>(s.step),
                 static_cast<long long>(s.steps), s.loss, s.top1, s.images_per_second, s.lr, left);
    std::fflush(stderr);
  } else if (s.step % log_interval_ == 0 || s.step == s.steps) {
    spdlog::info(
        "{} epoch {}/{} step {}/{} loss {:.4f} top1 {:.2f}% {:.0f} img/s lr {:.3g} "
        "left {:.0f}s",
        stage_, epoch_ + 1, epochs_, s.step, s.steps, s.loss, s.top1, s.images_per_second, s.lr,
        left);
  }
}

void ProgressReporter::finish() {
  if (enabled_ && terminal_) {
    std::fprintf(stderr, "\r%150s\r", "");
    std::fflush(stderr);
  }
}

}  // namespace ctmq
