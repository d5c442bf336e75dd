#pragma once
// One writer per run directory: an exclusive flock(2) on DIR/run.lock, held for the whole run.
// The kernel drops the lock when its holder dies (even by SIGKILL), so a lock is never stale;
// docs/cluster.md says how NFS and Lustre behave.

#include <string>

namespace ctmq {

/// Holds the lock of one run directory from construction to destruction (or process exit).
class RunLock {
 public:
  /// Takes the lock of `run_dir` (which must exist) without waiting. Throws RunBusyError naming
  /// the directory and the holder (host and pid) when another process holds it, IoError when
  /// the lock file cannot be opened. A file system without locks (Lustre mounted without
  /// -o flock) only gets a warning: refusing to run there would make ctmq unusable.
  explicit RunLock(const std::string& run_dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  /// DIR/run.lock: the file locked, which also holds "host pid" of the holder.
  static std::string lock_path(const std::string& run_dir);

 private:
  int fd_ = -1;
};

}  // namespace ctmq
