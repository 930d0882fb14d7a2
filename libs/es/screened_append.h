// File: screened_append.h
// -----------------------------------------------------------------------------
// The write of a stream ingest (quality samples, staffing punches, budget
// postings): the service screens a batch against the stream's state it
// keeps in memory, then appends what it accepted in one append expecting
// the head it knows. AppendScreened returns the new head once durable. On
// any error the caller's state may no longer match the log (an append that
// failed may have been written: an unknown commit; another writer may have
// moved the stream), so the caller drops that state and reloads it from
// the log on the next batch.
#ifndef TAKT_LIBS_ES_SCREENED_APPEND_H_
#define TAKT_LIBS_ES_SCREENED_APPEND_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "libs/eventlog/event_log.h"

namespace takt::es {

inline absl::StatusOr<uint64_t> AppendScreened(eventlog::EventLog& log, eventlog::AppendRequest append,
                                               uint64_t head) {
  const std::string stream = absl::StrCat(append.context, "/", append.facility);
  const uint64_t expected = head + append.events.size();
  append.expected_sequence = static_cast<int64_t>(head);
  auto appended = log.Append(std::move(append));
  if (!appended.ok()) return appended.status();
  if (appended->head_sequence != expected) {
    return absl::InternalError(absl::StrCat(stream, ": the log recorded a batch this service did not know (head ",
                                            appended->head_sequence, ", expected ", expected,
                                            "); state reloaded, resend the batch"));
  }
  return appended->head_sequence;
}

}  // namespace takt::es

#endif  // TAKT_LIBS_ES_SCREENED_APPEND_H_
