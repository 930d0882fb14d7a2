#include "services/enterprise/definitions.h"

#include "absl/strings/str_cat.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"

namespace takt::enterprise {
namespace {

namespace ev1 = ::takt::enterprise::v1;

// The definition a request entry holds, or null when it is empty.
const google::protobuf::Message* DefinitionOf(const v1::Definition& d) {
  switch (d.kind_case()) {
    case v1::Definition::kRegion: return &d.region();
    case v1::Definition::kFacility: return &d.facility();
    case v1::Definition::kMove: return &d.move();
    case v1::Definition::kArea: return &d.area();
    case v1::Definition::kWorkCenter: return &d.work_center();
    case v1::Definition::kWorkUnit: return &d.work_unit();
    case v1::Definition::kProduct: return &d.product();
    default: return nullptr;
  }
}

// Each event is one of the definitions: the Definition field of its type.
void AddWouldWrite(const es::Event& e, v1::ApplyDefinitionsResponse& response) {
  const auto* kinds = v1::Definition::descriptor();
  v1::Definition* d = response.add_would_write();
  for (int f = 0; f < kinds->field_count(); ++f) {
    if (kinds->field(f)->message_type()->full_name() != e.type) continue;
    d->GetReflection()->MutableMessage(d, kinds->field(f))->ParseFromString(e.payload);
  }
}

}  // namespace

Definitions::Definitions(eventlog::EventLog* log, model::ModelStore* models)
    : store_(log, {.context = model::kEnterpriseContext,
                   .stream = [](const std::string&) { return std::string(model::kEnterpriseStream); },
                   .initial = [](const std::string&) { return model::EnterpriseModel(); }}),
      models_(models) {}

absl::StatusOr<v1::ApplyDefinitionsResponse> Definitions::Apply(
    const v1::ApplyDefinitionsRequest& request, const es::CommandOrigin& origin) {
  auto decide = [&](model::EnterpriseModel& scratch, es::Decided& out,
                    v1::ApplyDefinitionsResponse& response) -> absl::Status {
    TAKT_ASSIGN_OR_RETURN(
        es::Decided::Counts counts,
        out.EmitEach<model::EnterpriseModel>(
            scratch, "definitions", request.definitions_size(),
            [&](int i, const model::EnterpriseModel& state) -> absl::StatusOr<std::vector<es::Event>> {
              const google::protobuf::Message* desired = DefinitionOf(request.definitions(i));
              if (desired == nullptr) {
                return absl::InvalidArgumentError(
                    "is empty: set one of region, facility, move, area, work_center, work_unit, product");
              }
              return state.Decide(*desired, origin.now);
            }));
    response.set_changed(counts.changed);
    response.set_unchanged(counts.unchanged);
    if (request.validate_only()) {
      for (const es::Event& e : out.events()) AddWouldWrite(e, response);
    }
    return absl::OkStatus();
  };
  auto response = store_.Execute<v1::ApplyDefinitionsResponse>(
      std::string(model::kEnterpriseStream), request, origin, decide, request.validate_only());
  // Every reader (ingest, rollups) sees the new model from now on. The
  // events are durable whatever happens here: a refresh that fails is
  // logged, and the follower (or the next refresh) catches up.
  if (response.ok() && response->changed() > 0 && !request.validate_only()) {
    if (absl::Status refreshed = models_->Refresh(); !refreshed.ok()) {
      log::Warn(absl::StrCat("enterprise: definitions recorded, the model not refreshed yet: ",
                             refreshed.message()));
    }
  }
  return response;
}

absl::StatusOr<v1::RoleResponse> Definitions::SetRole(const v1::RoleRequest& request, bool grant,
                                                      const es::CommandOrigin& origin) {
  auto decide = [&](model::EnterpriseModel& scratch, es::Decided& out, v1::RoleResponse& response) -> absl::Status {
    auto decide_one = [&](auto message) {
      message.set_subject(request.subject());
      message.set_role(request.role());
      message.set_scope(request.scope());
      message.set_reason(request.reason());
      return scratch.Decide(message, origin.now);
    };
    TAKT_ASSIGN_OR_RETURN(std::vector<es::Event> events,
                          grant ? decide_one(ev1::RoleGranted()) : decide_one(ev1::RoleRevoked()));
    response.set_changed(!events.empty());
    for (es::Event& e : events) TAKT_RETURN_IF_ERROR(out.Emit(scratch, std::move(e)));
    return absl::OkStatus();
  };
  auto response = store_.Execute<v1::RoleResponse>(std::string(model::kEnterpriseStream), request, origin, decide);
  if (response.ok() && response->changed()) {
    if (absl::Status refreshed = models_->Refresh(); !refreshed.ok()) {
      log::Warn(absl::StrCat("enterprise: role binding recorded, the model not refreshed yet: ",
                             refreshed.message()));
    }
  }
  return response;
}

}  // namespace takt::enterprise
