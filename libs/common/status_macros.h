// File: status_macros.h
// -----------------------------------------------------------------------------
// Debian's Abseil (20220623) ships no status_macros.h, so Takt keeps its own
// two macros. They propagate errors without exceptions.
//
// Example:
//
//   absl::StatusOr<int> Parse(std::string_view s);
//   absl::Status Use(std::string_view s) {
//     TAKT_ASSIGN_OR_RETURN(int v, Parse(s));
//     TAKT_RETURN_IF_ERROR(Check(v));
//     return absl::OkStatus();
//   }
#ifndef TAKT_LIBS_COMMON_STATUS_MACROS_H_
#define TAKT_LIBS_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TAKT_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status takt_status_ = (expr);        \
    if (!takt_status_.ok()) return takt_status_; \
  } while (0)

#define TAKT_STATUS_CONCAT_INNER_(a, b) a##b
#define TAKT_STATUS_CONCAT_(a, b) TAKT_STATUS_CONCAT_INNER_(a, b)

#define TAKT_ASSIGN_OR_RETURN(lhs, rexpr) \
  TAKT_ASSIGN_OR_RETURN_IMPL_(TAKT_STATUS_CONCAT_(takt_statusor_, __LINE__), lhs, rexpr)

#define TAKT_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // TAKT_LIBS_COMMON_STATUS_MACROS_H_
