#include "ctmq/core/directory.h"

#include <dirent.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

namespace ctmq {

std::vector<std::string> directory_entries(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> handle(::opendir(dir.c_str()), ::closedir);
  if (!handle) throw std::system_error(errno, std::generic_category(), dir);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(handle.get())) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
      names.emplace_back(entry->d_name);
    }
    errno = 0;
  }
  if (errno != 0) throw std::system_error(errno, std::generic_category(), dir);
  return names;
}

}  // namespace ctmq
