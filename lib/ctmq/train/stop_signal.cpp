#include "ctmq/train/stop_signal.h"

#include <atomic>
#include <csignal>

namespace ctmq {
namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void on_stop_signal(int signal_number) {
  if (signal_number == SIGINT && g_stop_signal.load() == SIGINT) {
    // Ctrl-C twice: the user means it. A repeated SIGTERM is not: schedulers send it more than
    // once (Slurm signals the tasks and, through the batch script, srun forwards it again).
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
    return;
  }
  g_stop_signal.store(signal_number);
}

}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

int stop_requested() {
  return g_stop_signal.load();
}

void clear_stop_request() {
  g_stop_signal.store(0);
}

}  // namespace ctmq
