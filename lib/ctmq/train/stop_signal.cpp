#include "ctmq/train/stop_signal.h"

#include <atomic>
#include <csignal>

namespace ctmq {
namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void on_stop_signal(int signal_number) {
  if (g_stop_signal.load() == signal_number) {
    // Asked twice: the user means it.
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
