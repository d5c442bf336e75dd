// Writes are atomic: a reader sees the old file or the new one, never a half-written one.

#include <gtest/gtest.h>

#include <filesystem>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "support/temp_dir.h"

namespace ctmq {
namespace {

TEST(AtomicFile, FailedWriterLeavesTargetUntouched) {
  test::TempDir dir("core");
  const std::string path = dir / "atomic.txt";
  write_file_atomic(path, "old");
  EXPECT_THROW(write_file_atomic(path,
                                 [](std::ostream& out) {
                                   out << "partial";
                                   throw IoError("disk on fire");
                                 }),
               IoError);
  EXPECT_EQ(read_file(path), "old");
  // Nothing of the failed write is left beside the file.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(AtomicFile, ReplacesTheWholeFile) {
  test::TempDir dir("core");
  const std::string path = dir / "atomic.txt";
  write_file_atomic(path, "a much longer first version");
  write_file_atomic(path, "short");
  EXPECT_EQ(read_file(path), "short");
}

}  // namespace
}  // namespace ctmq
