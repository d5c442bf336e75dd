#pragma once

#include <string>

namespace ctmq {

/// Sets up spdlog: colored stderr sink plus an optional file sink. `level` is one of
/// trace, debug, info, warn, error, off; anything else throws SpecError naming --log-level.
void configure_logging(const std::string& level, const std::string& log_file);

/// Adds a file sink (e.g. the run directory's log) to the default logger; lines at info level
/// and above are flushed to it as they are logged. The first file added after
/// configure_logging starts with every line logged since then: nothing a run logs before it
/// knows its directory is missing from its log.
void add_log_file(const std::string& path);

}  // namespace ctmq
