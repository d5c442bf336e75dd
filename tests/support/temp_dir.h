#pragma once
// The one temporary folder of the tests.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace ctmq::test {

/// A fresh empty folder under the system's temp folder (mkdtemp), removed with everything in it
/// at scope exit, unless the current test has failed: its logs and files are then kept for a
/// post-mortem.
class TempDir {
 public:
  explicit TempDir(const std::string& name = "test") {
    std::string pattern =
        (std::filesystem::temp_directory_path() / ("ctmq-" + name + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    if (::testing::Test::HasFailure()) return;
    std::error_code ignored;
    // A test may have taken the read permission away from a file or folder in it.
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path_, ignored)) {
      std::filesystem::permissions(entry.path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add, ignored);
    }
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  const std::string& str() const { return path_; }
  std::string operator/(const std::string& child) const { return path_ + "/" + child; }

 private:
  std::string path_;
};

}  // namespace ctmq::test
