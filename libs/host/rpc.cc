#include "libs/host/rpc.h"

#include <prometheus/counter.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/auth/transport.h"
#include "libs/metrics/metrics.h"
#include "libs/model/model_store.h"

namespace takt::host {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

std::string Actor(const grpc::ServerContext* ctx) { return auth::PrincipalOf(ctx).Actor(); }

void CountBatch(const std::string& batch_type, uint32_t accepted, uint32_t duplicates,
                const std::vector<int>& rejection_codes, uint32_t rejections_not_listed) {
  static auto& batches = prometheus::BuildCounter()
                             .Name("takt_ingest_batches_total")
                             .Help("Streamed batches acknowledged, by batch type.")
                             .Register(metrics::Registry());
  static auto& items = prometheus::BuildCounter()
                           .Name("takt_ingest_items_total")
                           .Help("Items of acknowledged batches by outcome: accepted, duplicate (a resend "
                                 "recognised, recorded once) or rejected.")
                           .Register(metrics::Registry());
  static auto& rejections = prometheus::BuildCounter()
                                .Name("takt_ingest_rejections_total")
                                .Help("Rejected items by gRPC code (the reason's class).")
                                .Register(metrics::Registry());
  batches.Add({{"batch", batch_type}}).Increment();
  if (accepted > 0) items.Add({{"batch", batch_type}, {"outcome", "accepted"}}).Increment(accepted);
  if (duplicates > 0) items.Add({{"batch", batch_type}, {"outcome", "duplicate"}}).Increment(duplicates);
  const size_t rejected = rejection_codes.size() + rejections_not_listed;
  if (rejected > 0) {
    items.Add({{"batch", batch_type}, {"outcome", "rejected"}}).Increment(static_cast<double>(rejected));
  }
  for (int code : rejection_codes) {
    const std::string name = code >= 0 && code <= 16
                                 ? absl::StatusCodeToString(static_cast<absl::StatusCode>(code))
                                 : std::string("UNKNOWN");
    rejections.Add({{"batch", batch_type}, {"code", name}}).Increment();
  }
  if (rejections_not_listed > 0) {
    rejections.Add({{"batch", batch_type}, {"code", "not_listed"}}).Increment(rejections_not_listed);
  }
}

}  // namespace takt::host

namespace takt::host {

namespace {

// Authorize and AuthorizeAnywhere: `target` null is anywhere, named `what`.
grpc::Status Decide(const grpc::ServerContext* ctx, model::ModelStore& models, auth::Permission permission,
                    const auth::Scope* target, std::string_view what) {
  const auth::Principal p = auth::PrincipalOf(ctx);
  bool allowed = false;
  std::vector<std::string> theirs;
  switch (p.kind) {
    case auth::PrincipalKind::kInsecure:
    case auth::PrincipalKind::kService: return grpc::Status::OK;
    case auth::PrincipalKind::kFacilitySystem:
      allowed = target != nullptr && *target == auth::Scope::Facility(p.name);
      theirs.push_back(absl::StrCat("its own facility ", p.name));
      break;
    case auth::PrincipalKind::kPerson:
      models.Read([&](const model::EnterpriseModel& m) {
        allowed = target != nullptr ? m.Allows(p.name, permission, *target)
                                    : m.access().AllowsSomewhere(p.name, permission);
        if (allowed) return;
        for (const auth::Binding& b : m.access().Of(p.name)) {
          theirs.push_back(absl::StrCat(auth::RoleName(b.role), " on ", b.scope.Name()));
        }
      });
      break;
  }
  if (allowed) return grpc::Status::OK;
  return grpc::Status(
      grpc::StatusCode::PERMISSION_DENIED,
      absl::StrCat(p.Actor(), " may not ", auth::PermissionName(permission), " ",
                   target != nullptr ? target->Name().substr(0, 140) : std::string(what),
                   ": no role binding grants it there (",
                   theirs.empty() ? std::string("none") : absl::StrJoin(theirs, "; "),
                   "); nothing was read or recorded"));
}

}  // namespace

grpc::Status Authorize(const grpc::ServerContext* ctx, model::ModelStore& models, auth::Permission permission,
                       const auth::Scope& target) {
  return Decide(ctx, models, permission, &target, "");
}

grpc::Status AuthorizeAnywhere(const grpc::ServerContext* ctx, model::ModelStore& models,
                               auth::Permission permission, std::string_view what) {
  return Decide(ctx, models, permission, nullptr, what);
}

grpc::Status AuthorizeBatch(const grpc::ServerContext* ctx, model::ModelStore& models, auth::Permission permission,
                            const std::string& facility) {
  grpc::Status s = Authorize(ctx, models, permission, auth::Scope::Facility(facility));
  if (s.ok()) return s;
  return grpc::Status(s.error_code(), absl::StrCat(s.error_message(), "; the batches before it were acknowledged"));
}

auth::Scope AccessScopeOf(std::string_view scope_name) {
  if (scope_name.empty() || scope_name == "enterprise") return auth::Scope::Enterprise();
  std::vector<std::string> parts = absl::StrSplit(std::string(scope_name), '/');
  if (parts.size() == 2 && parts[0] == "regions") return auth::Scope::Region(parts[1]);
  if ((parts.size() == 2 || parts.size() == 4) && parts[0] == "facilities") {
    return auth::Scope::Facility(parts[1]);
  }
  return auth::Scope::Enterprise();
}

}  // namespace takt::host
