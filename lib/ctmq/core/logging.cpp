#include "ctmq/core/logging.h"

#include <spdlog/details/log_msg_buffer.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>

#include "ctmq/core/errors.h"

namespace ctmq {
namespace {

/// Keeps the records logged before a run's log file exists. A run learns where its directory
/// is only after it has read its spec and scanned its data, and what it logged meanwhile (the
/// bad images it skips, for one) belongs in its train.log too.
class BacklogSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  /// Writes the kept records to `sink`, in order and with their own times, calls `attach`
  /// (which adds `sink` to the logger) and keeps no more. A line logged meanwhile waits for the
  /// lock and then goes to `sink` through the logger.
  void replay_into(spdlog::sinks::sink& sink, const std::function<void()>& attach) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (dropped_ > 0) {
      const std::string note = std::to_string(dropped_) + " earlier log lines were not kept";
      spdlog::details::log_msg msg(spdlog::source_loc{}, "ctmq", spdlog::level::warn, note);
      if (!records_.empty()) msg.time = records_.front().time;
      sink.log(msg);
    }
    for (const auto& record : records_) {
      if (sink.should_log(record.level)) sink.log(record);
    }
    sink.flush();
    attach();
    records_.clear();
    dropped_ = 0;
    closed_ = true;
  }

  bool closed() {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (closed_) return;
    if (records_.size() == kMaxRecords) {
      records_.pop_front();
      ++dropped_;
    }
    records_.emplace_back(msg);
  }
  void flush_() override {}

 private:
  /// Far more than a run logs before it opens its directory, unless it skips that many images:
  /// the latest ones are kept, and the file says how many were not.
  static constexpr size_t kMaxRecords = 10000;
  std::deque<spdlog::details::log_msg_buffer> records_;
  size_t dropped_ = 0;
  bool closed_ = false;
};

std::shared_ptr<spdlog::sinks::sink> open_file_sink(const std::string& path) {
  try {
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
    sink->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
    return sink;
  } catch (const std::exception& e) {
    throw IoError(path + ": cannot open log file: " + e.what());
  }
}

void attach(std::shared_ptr<spdlog::sinks::sink> sink) {
  spdlog::default_logger()->sinks().push_back(std::move(sink));
  // Every info line reaches the file at once: a run's train.log is what `tail -f` follows
  // during a long stage, and what is left after the process is killed.
  spdlog::default_logger()->flush_on(spdlog::level::info);
}

}  // namespace

void configure_logging(const std::string& level, const std::string& log_file) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    throw SpecError("--log-level " + level +
                    ": expected trace, debug, info, warn, error, critical or off");
  }
  auto logger = std::make_shared<spdlog::logger>(
      "ctmq", spdlog::sinks_init_list{std::make_shared<spdlog::sinks::stderr_color_sink_mt>(),
                                      std::make_shared<BacklogSink>()});
  logger->set_level(parsed);
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
  spdlog::set_default_logger(logger);
  // --log-file is open from the first line on: it needs no backlog.
  if (!log_file.empty()) attach(open_file_sink(log_file));
}

void add_log_file(const std::string& path) {
  auto sink = open_file_sink(path);
  // The backlog stays among the sinks (closed): removing it could race a logging thread.
  std::shared_ptr<BacklogSink> backlog;
  for (const auto& existing : spdlog::default_logger()->sinks()) {
    if (auto found = std::dynamic_pointer_cast<BacklogSink>(existing)) backlog = found;
  }
  if (backlog && !backlog->closed()) {
    backlog->replay_into(*sink, [&] { attach(sink); });
  } else {
    attach(sink);
  }
}

}  // namespace ctmq
