// File: planning_store.h
// -----------------------------------------------------------------------------
// The planning state of every facility in a running scheduling service:
// each facility's Planning folded from its stream "<facility>.plan" on first
// use, changed only by appending decided events (optimistic concurrency on
// the stream head) and folding them in. Thread-safe.
#ifndef TAKT_SERVICES_SCHEDULING_PLANNING_STORE_H_
#define TAKT_SERVICES_SCHEDULING_PLANNING_STORE_H_

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/eventlog/event_log.h"
#include "services/enterprise/model_store.h"
#include "services/scheduling/planning.h"
#include "takt/scheduling/v1/planning_service.pb.h"

namespace takt::scheduling {

class PlanningStore {
 public:
  PlanningStore(eventlog::EventLog* log, enterprise::ModelStore* models)
      : log_(log), models_(models) {}

  // Decides every command against the state as it stands after the ones
  // before it and appends all events as one batch (all or nothing).
  absl::StatusOr<v1::ExecuteResponse> Execute(const v1::ExecuteRequest& request,
                                              const std::string& actor, absl::Time now);
  // What-if: nothing is recorded.
  absl::StatusOr<v1::Schedule> Propose(const v1::ScheduleRequest& request, absl::Time now);
  absl::StatusOr<v1::CommitScheduleResponse> Commit(const v1::CommitScheduleRequest& request,
                                                    const std::string& actor, absl::Time now);
  absl::StatusOr<v1::ListWorkOrdersResponse> List(const std::string& facility);

 private:
  struct Facility {
    explicit Facility(const std::string& id) : planning(id) {}
    Planning planning;
    uint64_t head = 0;
    // The first event of each request that recorded its outcome (payload
    // dropped): what a resend of that request id is answered with.
    std::map<std::string, eventlog::Envelope> requests;
  };
  // The facility's state, loaded from the log on first use.
  absl::StatusOr<Facility*> Load(const std::string& facility) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends a request's events. With a client's request id, `request` and
  // `response` record the outcome for resends (eventlog/command.h).
  absl::Status Append(Facility* f, const std::vector<model::ModelEvent>& events,
                      const std::string& request_id, const std::string& actor, absl::Time now,
                      const google::protobuf::Message& request,
                      const google::protobuf::Message& response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The original response to a resend of `request` (true), or false when
  // its request id is new.
  absl::StatusOr<bool> Resent(Facility* f, const std::string& request_id,
                              const google::protobuf::Message& request,
                              google::protobuf::Message* response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  eventlog::EventLog* log_;
  enterprise::ModelStore* models_;
  absl::Mutex mu_;  // one command at a time (the service is the stream's only writer)
  std::map<std::string, std::unique_ptr<Facility>> facilities_ ABSL_GUARDED_BY(mu_);
};

}  // namespace takt::scheduling

#endif  // TAKT_SERVICES_SCHEDULING_PLANNING_STORE_H_
