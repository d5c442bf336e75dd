#pragma once
// Atomic file writes: write to a temporary file beside the target, flush and fsync it, then
// rename it over the target. A crash leaves either the old file or the new one, never half.

#include <functional>
#include <ostream>
#include <string>

namespace ctmq {

/// Writes `contents` to `path` atomically; throws IoError naming the file on failure.
void write_file_atomic(const std::string& path, const std::string& contents);

/// Calls `write` with a stream on a temporary file, then renames it to `path`. If `write`
/// throws, the temporary file is removed and the target is left untouched.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);

/// Reads a whole file; throws IoError naming the file when it cannot.
std::string read_file(const std::string& path);

}  // namespace ctmq
