// File: replay.h
// -----------------------------------------------------------------------------
// A facility's events in one context as the audit service replays them to
// `channel`'s caller, for tests that check what was recorded and by whom.
// Link the audit protos (takt_audit).
#ifndef TAKT_LIBS_TESTING_REPLAY_H_
#define TAKT_LIBS_TESTING_REPLAY_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "takt/audit/v1/audit.grpc.pb.h"

namespace takt::testing {

inline std::vector<audit::v1::AuditedEvent> ReplayEvents(const std::shared_ptr<grpc::Channel>& channel,
                                                         const std::string& facility, const std::string& context) {
  audit::v1::ReplayRequest r;
  r.set_facility(facility);
  r.add_contexts(context);
  grpc::ClientContext ctx;
  auto reader = audit::v1::AuditService::NewStub(channel)->Replay(&ctx, r);
  std::vector<audit::v1::AuditedEvent> out;
  audit::v1::ReplayItem item;
  while (reader->Read(&item)) {
    if (item.has_event()) out.push_back(item.event());
  }
  grpc::Status finished = reader->Finish();
  EXPECT_TRUE(finished.ok()) << facility << "/" << context << ": " << finished.error_message();
  return out;
}

}  // namespace takt::testing

#endif  // TAKT_LIBS_TESTING_REPLAY_H_
