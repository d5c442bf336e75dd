#include "ctmq/io/run_lock.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ctmq/core/errors.h"

namespace ctmq {
namespace {

std::string this_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown-host";
  return name;
}

// What the holder wrote into the lock file ("host pid"); empty in the instant between its
// flock() and its write.
std::string read_holder(int fd) {
  char buffer[512] = {};
  const ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
  std::string holder = n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
  return holder;
}

}  // namespace

std::string RunLock::lock_path(const std::string& run_dir) {
  return run_dir + "/run.lock";
}

RunLock::RunLock(const std::string& run_dir) {
  const std::string path = lock_path(run_dir);
  // O_CLOEXEC: a child process (a shell hook, a spawned worker) must not inherit the lock.
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw IoError("cannot open the run lock " + path + ": " + std::strerror(errno));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error == EWOULDBLOCK) {
      std::string holder = read_holder(fd_);
      ::close(fd_);
      fd_ = -1;
      std::string host = holder.substr(0, holder.find(' '));
      std::string pid =
          holder.find(' ') == std::string::npos ? "" : holder.substr(holder.find(' ') + 1);
      throw RunBusyError("run directory " + run_dir + " is in use by another ctmq process (" +
                         (holder.empty() ? std::string("holder not yet recorded")
                                         : "host " + host + ", pid " + pid) +
                         ", lock " + path +
                         "); wait for it to finish or choose another output_dir");
    }
    // ENOLCK/EOPNOTSUPP/ENOSYS: the file system has no locks (Lustre without -o flock).
    spdlog::warn("cannot lock {} ({}): nothing stops a second ctmq process from writing {}", path,
                 std::strerror(error), run_dir);
    return;
  }
  const std::string holder = this_host() + " " + std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 ||
      ::pwrite(fd_, holder.data(), holder.size(), 0) != static_cast<ssize_t>(holder.size())) {
    spdlog::warn("cannot record the holder in {}: {}", path, std::strerror(errno));
  }
}

RunLock::~RunLock() {
  // Closing the descriptor releases the lock; the file stays (unlinking it would let a third
  // process lock a new inode while a second still holds the old one).
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace ctmq
