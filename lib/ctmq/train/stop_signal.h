#pragma once
// SIGINT/SIGTERM (what Slurm sends before a time limit) become a request to stop: the training
// loop finishes its current step, saves, and throws InterruptedError.

namespace ctmq {

/// Installs the handlers (idempotent). A second signal of the same kind kills at once.
void install_stop_handlers();

/// The signal that asked to stop, or 0.
int stop_requested();

/// For tests: forget a previous request.
void clear_stop_request();

}  // namespace ctmq
