#pragma once
// Typed errors thrown by the library; only apps/ctmq/main.cpp turns them into an exit code.

#include <stdexcept>
#include <string>

namespace ctmq {

/// Process exit codes, documented in docs/cli.md.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,
  kExitUsage = 2,          ///< bad flags or a bad experiment spec
  kExitData = 3,           ///< unreadable or malformed data
  kExitRunBusy = 4,        ///< another process holds the run directory's lock
  kExitInterrupted = 130,  ///< stopped by SIGINT/SIGTERM after saving; 128 + signal
};

/// Base of every ctmq error: a message with context plus the exit code it maps to.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int exit_code = kExitFailure)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

/// A spec or command-line problem; the message names the JSON path or the flag.
class SpecError : public Error {
 public:
  explicit SpecError(const std::string& message) : Error(message, kExitUsage) {}
};

/// A data problem; the message names the file.
class DataError : public Error {
 public:
  explicit DataError(const std::string& message) : Error(message, kExitData) {}
};

/// A file-system or checkpoint problem; the message names the file.
class IoError : public Error {
 public:
  explicit IoError(const std::string& message) : Error(message, kExitFailure) {}
};

/// Another ctmq process is writing the run directory; the message names it and the holder.
class RunBusyError : public Error {
 public:
  explicit RunBusyError(const std::string& message) : Error(message, kExitRunBusy) {}
};

/// Raised after a graceful stop on a signal, once everything is saved.
class InterruptedError : public Error {
 public:
  explicit InterruptedError(int signal_number)
      : Error("interrupted by signal " + std::to_string(signal_number) +
                  "; progress saved, rerun the same command to resume",
              128 + signal_number),
        signal_number_(signal_number) {}
  int signal_number() const { return signal_number_; }

 private:
  int signal_number_;
};

}  // namespace ctmq
