// File: event.h
// -----------------------------------------------------------------------------
// A domain event as a context's pure logic sees it: its fully qualified
// protobuf type and serialized payload. Deciders return these; the log's
// envelope (eventlog::Envelope) adds who, when, where and the chain.
#ifndef TAKT_LIBS_ES_EVENT_H_
#define TAKT_LIBS_ES_EVENT_H_

#include <string>

#include "absl/time/time.h"
#include "google/protobuf/message.h"

namespace takt::es {

struct Event {
  std::string type;
  std::string payload;
};

// Where a command comes from.
struct CommandOrigin {
  std::string actor;  // the principal (recorded on every event)
  absl::Time now;     // recorded as the events' occurred time
};

// The event of a typed payload.
inline Event EventOf(const google::protobuf::Message& payload) {
  return Event{std::string(payload.GetDescriptor()->full_name()), payload.SerializeAsString()};
}

}  // namespace takt::es

#endif  // TAKT_LIBS_ES_EVENT_H_
