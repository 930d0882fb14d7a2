// File: sample_events.h
// -----------------------------------------------------------------------------
// Builders of sample append requests for tests, benchmarks and the demo.
#ifndef TAKT_LIBS_EVENTLOG_SAMPLE_EVENTS_H_
#define TAKT_LIBS_EVENTLOG_SAMPLE_EVENTS_H_

#include <string>

#include "libs/eventlog/event_log.h"

namespace takt::eventlog {

// An event of type "takt.test.v1.Tick" with `payload_bytes` bytes of payload.
inline Envelope SampleEvent(std::string payload, std::string source_id = "",
                          uint64_t source_sequence = 0) {
  Envelope e;
  e.set_event_type("takt.test.v1.Tick");
  e.set_schema_version(1);
  e.set_actor("test");
  e.mutable_occurred_time()->set_seconds(1'700'000'000);
  e.set_source_id(std::move(source_id));
  e.set_source_sequence(source_sequence);
  e.set_payload(std::move(payload));
  return e;
}

inline AppendRequest SampleAppend(std::string facility, size_t count, size_t payload_bytes = 200,
                                int64_t expected = kAnySequence) {
  AppendRequest r;
  r.context = "scheduling";
  r.facility = std::move(facility);
  r.expected_sequence = expected;
  for (size_t i = 0; i < count; ++i) {
    r.events.push_back(SampleEvent(std::string(payload_bytes, static_cast<char>('a' + i % 26))));
  }
  return r;
}

}  // namespace takt::eventlog

#endif  // TAKT_LIBS_EVENTLOG_SAMPLE_EVENTS_H_
