#pragma once
// Listing a folder without std::filesystem's iterators.

#include <string>
#include <vector>

namespace ctmq {

/// The names in `dir` ("." and ".." left out), unsorted. POSIX readdir rather than
/// std::filesystem::directory_iterator: LibTorch's official 2.4+ builds (wheels and archives)
/// export their own statically linked copy of libstdc++'s filesystem iterators
/// (pytorch/pytorch#133437), which a program compiled with another libstdc++ may bind to and
/// crash in. Throws std::system_error naming `dir` when the folder cannot be read.
std::vector<std::string> directory_entries(const std::string& dir);

}  // namespace ctmq
