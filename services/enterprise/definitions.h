// File: definitions.h
// -----------------------------------------------------------------------------
// The enterprise context's write side: a request's definitions are decided
// against the enterprise model (model::EnterpriseModel::Decide) on the
// aggregate store of stream enterprise/enterprise, all or nothing, and the
// read model every service shares (model::ModelStore) is refreshed after.
#ifndef TAKT_SERVICES_ENTERPRISE_DEFINITIONS_H_
#define TAKT_SERVICES_ENTERPRISE_DEFINITIONS_H_

#include "absl/status/statusor.h"
#include "libs/es/aggregate_store.h"
#include "libs/model/enterprise_model.h"
#include "libs/model/model_store.h"
#include "takt/enterprise/v1/enterprise_service.pb.h"

namespace takt::enterprise {

class Definitions {
 public:
  Definitions(eventlog::EventLog* log, model::ModelStore* models);

  // Decides every definition against the model as it would stand after the
  // ones before it, then appends all resulting events as one batch. A bad
  // definition fails the whole request, naming it (definitions[i]). With
  // validate_only nothing is written and `would_write` lists the events.
  absl::StatusOr<v1::ApplyDefinitionsResponse> Apply(const v1::ApplyDefinitionsRequest& request,
                                                     const es::CommandOrigin& origin);

  // Grants (or revokes) a person's role on a scope: a RoleGranted
  // (RoleRevoked) event, none when the binding already stands (is already
  // gone). INVALID_ARGUMENT names a bad subject, role, scope or a missing
  // reason; NOT_FOUND a region or facility not defined.
  absl::StatusOr<v1::RoleResponse> SetRole(const v1::RoleRequest& request, bool grant,
                                           const es::CommandOrigin& origin);

 private:
  es::AggregateStore<model::EnterpriseModel> store_;
  model::ModelStore* models_;
};

}  // namespace takt::enterprise

#endif  // TAKT_SERVICES_ENTERPRISE_DEFINITIONS_H_
