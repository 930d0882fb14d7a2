#include "services/scheduling/planning_store.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "libs/common/plan_stream.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "services/scheduling/ingest.h"

namespace takt::scheduling {

PlanningStore::PlanningStore(eventlog::EventLog* log, model::ModelStore* models)
    : log_(log),
      models_(models),
      plans_(log, {.context = kSchedulingContext,
                   .stream = PlanStream,
                   .initial = [](const std::string& facility) { return Planning(facility); }}),
      crew_(log) {}

absl::Status PlanningStore::CheckKnown(const std::string& facility) {
  if (!models_->KnowsFacility(facility)) {
    return absl::NotFoundError(absl::StrCat("facility '", facility, "' is not defined"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ExecuteResponse> PlanningStore::Execute(const v1::ExecuteRequest& request,
                                                           const std::string& actor, absl::Time now) {
  TAKT_RETURN_IF_ERROR(CheckKnown(request.facility()));
  auto decide = [&](Planning& scratch, es::Decided& out, v1::ExecuteResponse& resp) -> absl::Status {
    TAKT_ASSIGN_OR_RETURN(
        es::Decided::Counts counts,
        out.EmitEach<Planning>(
            scratch, "commands", request.commands_size(),
            [&](int i, const Planning& state) -> absl::StatusOr<std::vector<es::Event>> {
              v1::PlanningCommand c = request.commands(i);
              if (c.has_complete_work_order() && !c.complete_work_order().has_completed_time()) {
                *c.mutable_complete_work_order()->mutable_completed_time() = ToProto(now);
              }
              if (c.has_correct_count()) {
                // The count it corrects, from the facility's shop-floor stream.
                const uint64_t seq = c.correct_count().corrects_sequence();
                std::vector<eventlog::LoggedEvent> original;
                if (seq != 0) {
                  TAKT_ASSIGN_OR_RETURN(
                      original, log_->ReadStream({kSchedulingContext, request.facility()}, seq, 1));
                }
                return state.DecideCorrection(c.correct_count(),
                                              original.empty() ? nullptr : &original.front().envelope);
              }
              absl::StatusOr<std::vector<es::Event>> decided;
              models_->Read([&](const model::EnterpriseModel& m) { decided = state.Decide(c, m); });
              return decided;
            }));
    resp.set_changed(counts.changed);
    resp.set_unchanged(counts.unchanged);
    return absl::OkStatus();
  };
  return plans_.Execute<v1::ExecuteResponse>(request.facility(), request, {actor, now}, decide);
}

absl::StatusOr<v1::Schedule> PlanningStore::Propose(const v1::ScheduleRequest& request, absl::Time now) {
  TAKT_RETURN_IF_ERROR(CheckKnown(request.facility()));
  // Solve outside the store's lock: a what-if takes seconds and changes nothing.
  TAKT_ASSIGN_OR_RETURN(Planning snapshot, plans_.Snapshot(request.facility()));
  std::optional<CrewFacts> crew;
  if (request.respect_crew()) {
    TAKT_ASSIGN_OR_RETURN(crew, crew_.Snapshot(request.facility()));
  }
  absl::StatusOr<v1::Schedule> out;
  models_->Read([&](const model::EnterpriseModel& m) {
    out = snapshot.Propose(m, request, now, crew ? &*crew : nullptr);
  });
  return out;
}

absl::StatusOr<v1::CommitScheduleResponse> PlanningStore::Commit(
    const v1::CommitScheduleRequest& request, const std::string& actor, absl::Time now) {
  TAKT_RETURN_IF_ERROR(CheckKnown(request.facility()));
  std::optional<CrewFacts> crew;
  if (request.schedule().respect_crew()) {
    TAKT_ASSIGN_OR_RETURN(crew, crew_.Snapshot(request.facility()));
  }
  auto decide = [&](Planning& scratch, es::Decided& out,
                    v1::CommitScheduleResponse& resp) -> absl::Status {
    absl::StatusOr<model::ModelEvent> event;
    models_->Read([&](const model::EnterpriseModel& m) {
      event = scratch.DecideCommit(m, request.schedule(), crew ? &*crew : nullptr);
    });
    if (!event.ok()) return event.status();
    resp.set_schedule_id(request.schedule().schedule_id());
    return out.Emit(scratch, *std::move(event));
  };
  return plans_.Execute<v1::CommitScheduleResponse>(request.facility(), request, {actor, now},
                                                    decide);
}

absl::StatusOr<v1::ListWorkOrdersResponse> PlanningStore::List(const std::string& facility) {
  TAKT_RETURN_IF_ERROR(CheckKnown(facility));
  v1::ListWorkOrdersResponse resp;
  TAKT_RETURN_IF_ERROR(plans_.Read(facility, [&](const Planning& planning) {
    resp.set_committed_schedule_id(planning.committed_schedule_id());
    for (const auto& [id, o] : planning.work_orders()) {
      auto* v = resp.add_work_orders();
      v->set_work_order(id);
      v->set_product(o.created.product());
      v->set_quantity(o.created.quantity());
      v->set_status(o.status);
      v->set_weight(o.weight);
      if (o.created.has_release_time()) *v->mutable_release_time() = o.created.release_time();
      if (o.created.has_due_time()) *v->mutable_due_time() = o.created.due_time();
      if (o.planned_start) *v->mutable_planned_start() = ToProto(*o.planned_start);
      if (o.planned_end) *v->mutable_planned_end() = ToProto(*o.planned_end);
      if (o.completed) *v->mutable_completed_time() = ToProto(*o.completed);
    }
  }));
  return resp;
}

}  // namespace takt::scheduling
