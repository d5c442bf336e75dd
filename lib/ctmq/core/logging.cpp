#include "ctmq/core/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "ctmq/core/errors.h"

namespace ctmq {

void configure_logging(const std::string& level, const std::string& log_file) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    throw SpecError("--log-level " + level +
                    ": expected trace, debug, info, warn, error, critical or off");
  }
  auto logger = std::make_shared<spdlog::logger>(
      "ctmq", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_level(parsed);
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
  spdlog::set_default_logger(logger);
  if (!log_file.empty()) add_log_file(log_file);
}

void add_log_file(const std::string& path) {
  try {
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
    sink->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
    spdlog::default_logger()->sinks().push_back(sink);
    // Every info line reaches the file at once: a run's train.log is what `tail -f` follows
    // during a long stage, and what is left after the process is killed.
    spdlog::default_logger()->flush_on(spdlog::level::info);
  } catch (const std::exception& e) {
    throw IoError(path + ": cannot open log file: " + e.what());
  }
}

}  // namespace ctmq
