#include "services/enterprise/grpc_service.h"

#include "absl/strings/str_cat.h"
#include "libs/auth/transport.h"
#include "libs/host/rpc.h"

namespace takt::enterprise {

using auth::Permission;
using auth::Scope;

grpc::Status EnterpriseServiceImpl::ApplyDefinitions(grpc::ServerContext* ctx,
                                                     const v1::ApplyDefinitionsRequest* request,
                                                     v1::ApplyDefinitionsResponse* response) {
  if (auto a = host::Authorize(ctx, *models_, Permission::kAdminister, Scope::Enterprise()); !a.ok()) return a;
  return host::Answer(definitions_->Apply(*request, host::Origin(ctx)), response);
}

grpc::Status EnterpriseServiceImpl::GrantRole(grpc::ServerContext* ctx, const v1::RoleRequest* request,
                                              v1::RoleResponse* response) {
  if (auto a = host::Authorize(ctx, *models_, Permission::kAdminister, Scope::Enterprise()); !a.ok()) return a;
  return host::Answer(definitions_->SetRole(*request, /*grant=*/true, host::Origin(ctx)), response);
}

grpc::Status EnterpriseServiceImpl::RevokeRole(grpc::ServerContext* ctx, const v1::RoleRequest* request,
                                               v1::RoleResponse* response) {
  if (auto a = host::Authorize(ctx, *models_, Permission::kAdminister, Scope::Enterprise()); !a.ok()) return a;
  return host::Answer(definitions_->SetRole(*request, /*grant=*/false, host::Origin(ctx)), response);
}

grpc::Status EnterpriseServiceImpl::ListRoleBindings(grpc::ServerContext* ctx,
                                                     const v1::ListRoleBindingsRequest* request,
                                                     v1::ListRoleBindingsResponse* response) {
  // A person may list their own bindings; anyone else's are for administrators.
  const auth::Principal caller = auth::PrincipalOf(ctx);
  const bool own = caller.kind == auth::PrincipalKind::kPerson && request->subject() == caller.name;
  if (!own) {
    if (auto a = host::Authorize(ctx, *models_, Permission::kAdminister, Scope::Enterprise()); !a.ok()) return a;
  }
  if (!request->subject().empty()) {
    if (absl::Status s = auth::ValidateSubject(request->subject()); !s.ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("subject: ", s.message()));
    }
  }
  models_->Read([&](const model::EnterpriseModel& m) {
    for (const auth::Binding& b :
         request->subject().empty() ? m.access().All() : m.access().Of(request->subject())) {
      v1::RoleBinding* out = response->add_bindings();
      out->set_subject(b.subject);
      out->set_role(std::string(auth::RoleName(b.role)));
      out->set_scope(b.scope.Name());
    }
  });
  return grpc::Status::OK;
}

grpc::Status EnterpriseServiceImpl::AuthorizeRead(grpc::ServerContext* ctx, ElementKind kind,
                                                  const std::string& parent_or_name) {
  // The product catalogue is every plant's: whoever reads somewhere reads it.
  if (kind == ElementKind::kProduct) return host::AuthorizeAnywhere(ctx, *models_, Permission::kRead, "products");
  return host::Authorize(ctx, *models_, Permission::kRead, AccessScopeOfParent(kind, parent_or_name));
}

grpc::Status EnterpriseServiceImpl::List(grpc::ServerContext* ctx, ElementKind kind,
                                         const v1::ListElementsRequest& request, v1::ListElementsResponse* response) {
  if (auto a = AuthorizeRead(ctx, kind, request.parent()); !a.ok()) return a;
  absl::StatusOr<v1::ListElementsResponse> r;
  models_->Read([&](const model::EnterpriseModel& m) { r = ListElements(m, kind, request); });
  return host::Answer(std::move(r), response);
}

grpc::Status EnterpriseServiceImpl::Get(grpc::ServerContext* ctx, ElementKind kind,
                                        const v1::GetElementRequest& request, v1::Element* response) {
  if (auto a = AuthorizeRead(ctx, kind, request.name()); !a.ok()) return a;
  absl::StatusOr<v1::Element> r;
  models_->Read([&](const model::EnterpriseModel& m) { r = GetElement(m, kind, request.name()); });
  return host::Answer(std::move(r), response);
}

}  // namespace takt::enterprise
