// File: proto_time.h
// -----------------------------------------------------------------------------
// google.protobuf.Timestamp <-> absl::Time, the one conversion used by
// events, commands and answers.
#ifndef TAKT_LIBS_COMMON_PROTO_TIME_H_
#define TAKT_LIBS_COMMON_PROTO_TIME_H_

#include <cstdint>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace takt {

inline absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

inline google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t ns = absl::ToUnixNanos(t);
  int64_t seconds = ns / 1'000'000'000;
  int64_t nanos = ns % 1'000'000'000;
  if (nanos < 0) {  // Timestamp nanos are never negative
    nanos += 1'000'000'000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(nanos));
  return ts;
}

}  // namespace takt

#endif  // TAKT_LIBS_COMMON_PROTO_TIME_H_
