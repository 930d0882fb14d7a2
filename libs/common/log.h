// File: log.h
// -----------------------------------------------------------------------------
// Server logs, through spdlog, on stderr: one line per start and stop, per
// refused connection class and per background failure (not per request).
// Text ("2026-12-02T14:25:10.123Z info takt: ...") or JSON Lines
// ({"time":...,"level":...,"msg":...}, escaped by nlohmann::json).
#ifndef TAKT_LIBS_COMMON_LOG_H_
#define TAKT_LIBS_COMMON_LOG_H_

#include <string_view>

#include "absl/status/status.h"

namespace takt::log {

// "text" (the default) or "json"; anything else is INVALID_ARGUMENT.
absl::Status SetFormat(std::string_view format);

void Info(std::string_view message);
void Warn(std::string_view message);
void Error(std::string_view message);

}  // namespace takt::log

#endif  // TAKT_LIBS_COMMON_LOG_H_
