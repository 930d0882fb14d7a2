#include "services/enterprise/module.h"

#include <CLI/CLI.hpp>

#include "absl/strings/str_split.h"
#include "libs/auth/principal.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/host/host.h"
#include "libs/model/model_store.h"
#include "services/enterprise/cli.h"
#include "services/enterprise/definitions.h"
#include "services/enterprise/grpc_service.h"
#include "takt/enterprise/v1/model.pb.h"

namespace takt::enterprise {
namespace {

constexpr char kAdministratorFlag[] = "administrator";

// Bootstrap: until the enterprise has had an administrator, `takt serve
// --administrator alice,bob` grants them the role (a RoleGranted event by
// service:takt-serve, like any other grant). Once one was granted the flag
// changes nothing: access is then managed by administrators, and a
// revocation (even of the last one) is never undone by a restart.
absl::Status Bootstrap(Definitions& definitions, model::ModelStore& models, const std::string& flag) {
  if (flag.empty()) return absl::OkStatus();
  TAKT_RETURN_IF_ERROR(models.Refresh());
  bool ever = false;
  models.Read([&](const model::EnterpriseModel& m) { ever = m.access().administrator_ever_granted(); });
  if (ever) return absl::OkStatus();
  const es::CommandOrigin origin{auth::Principal{auth::PrincipalKind::kService, "takt-serve"}.Actor(), absl::Now()};
  const std::vector<std::string> subjects = absl::StrSplit(flag, ',', absl::SkipWhitespace());
  for (const std::string& subject : subjects) {  // all checked before any is granted
    if (absl::Status s = auth::ValidateSubject(subject); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--administrator '", subject, "': ", s.message()));
    }
  }
  for (const std::string& subject : subjects) {
    v1::RoleRequest request;
    request.set_subject(subject);
    request.set_role("administrator");
    request.set_scope("enterprise");
    request.set_reason("bootstrap: takt serve --administrator while the enterprise had no administrator");
    auto granted = definitions.SetRole(request, /*grant=*/true, origin);
    if (!granted.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--administrator ", subject, ": ", granted.status().message()));
    }
    log::Info(absl::StrCat("enterprise: ", subject, " is an administrator (bootstrap)"));
  }
  return absl::OkStatus();
}

class EnterpriseModule final : public host::Module {
 public:
  absl::Status Start(host::Env& env) override {
    definitions_ = std::make_unique<Definitions>(env.log(), env.models());
    service_ = std::make_unique<EnterpriseServiceImpl>(definitions_.get(), env.models());
    auto flag = env.options().module_flags.find(kAdministratorFlag);
    return Bootstrap(*definitions_, *env.models(),
                     flag == env.options().module_flags.end() ? std::string() : flag->second);
  }
  std::vector<host::ServiceEntry> Services() override {
    host::ServiceEntry entry{service_.get(), std::string(v1::EnterpriseService::service_full_name())};
    entry.http = {
        {"GET", "/v1/regions", "ListRegions"},
        {"GET", "/v1/{name=regions/*}", "GetRegion"},
        {"GET", "/v1/facilities", "ListFacilities"},
        {"GET", "/v1/{parent=regions/*}/facilities", "ListFacilities"},
        {"GET", "/v1/{name=facilities/*}", "GetFacility"},
        {"GET", "/v1/{parent=facilities/*}/areas", "ListAreas"},
        {"GET", "/v1/{parent=facilities/*}/workCenters", "ListWorkCenters"},
        {"GET", "/v1/{parent=facilities/*/areas/*}/workCenters", "ListWorkCenters"},
        {"GET", "/v1/{parent=facilities/*}/workUnits", "ListWorkUnits"},
        {"GET", "/v1/{parent=facilities/*/areas/*}/workUnits", "ListWorkUnits"},
        {"GET", "/v1/{parent=facilities/*/workCenters/*}/workUnits", "ListWorkUnits"},
        {"GET", "/v1/products", "ListProducts"},
        {"GET", "/v1/{name=products/*}", "GetProduct"},
        {"GET", "/v1/roleBindings", "ListRoleBindings"},
    };
    return {std::move(entry)};
  }

 private:
  std::unique_ptr<Definitions> definitions_;
  std::unique_ptr<EnterpriseServiceImpl> service_;
};

}  // namespace

host::ModuleInfo Module() {
  host::ModuleInfo m;
  m.name = "enterprise";
  // One master-data stream; a facility's replay filters it to the facility.
  m.owns = {{model::kEnterpriseContext, [](const std::string&) {
               return std::vector<std::string>{model::kEnterpriseStream};
             }}};
  m.payload_files = {v1::FacilityDefined::descriptor()->file()};
  m.create = [] { return std::make_unique<EnterpriseModule>(); };
  m.add_serve_flags = [](CLI::App& serve, std::map<std::string, std::string>* flags) {
    serve.add_option(absl::StrCat("--", kAdministratorFlag), (*flags)[kAdministratorFlag],
                     "enterprise: people (token subjects, comma-separated) made administrators while the "
                     "enterprise has none (bootstrap; recorded as role grants)");
  };
  m.add_commands = cli::AddEnterpriseCommands;
  return m;
}

}  // namespace takt::enterprise
