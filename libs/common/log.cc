#include "libs/common/log.h"

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace takt::log {
namespace {

std::atomic<bool> g_json{false};

spdlog::logger& Logger() {
  static spdlog::logger* logger = [] {
    auto l = std::make_unique<spdlog::logger>("takt", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");  // the line is formatted below (time in UTC, JSON escaped)
    l->flush_on(spdlog::level::info);
    return l.release();
  }();
  return *logger;
}

void Write(spdlog::level::level_enum level, std::string_view message) {
  const std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  const auto name = spdlog::level::to_string_view(level);
  const std::string level_name(name.data(), name.size());
  if (g_json.load(std::memory_order_relaxed)) {
    Logger().log(level, nlohmann::json{{"time", time}, {"level", level_name}, {"msg", message}}
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    Logger().log(level, absl::StrCat(time, " ", level_name, " takt: ", std::string(message)));
  }
}

}  // namespace

absl::Status SetFormat(std::string_view format) {
  if (format == "text" || format == "json") {
    g_json = format == "json";
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("log format '", std::string(format), "': must be text or json"));
}

void Info(std::string_view message) { Write(spdlog::level::info, message); }
void Warn(std::string_view message) { Write(spdlog::level::warn, message); }
void Error(std::string_view message) { Write(spdlog::level::err, message); }

}  // namespace takt::log
