#include "services/staffing/module.h"

#include "absl/strings/str_cat.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/host/host.h"
#include "libs/model/model_store.h"
#include "services/staffing/cli.h"
#include "services/staffing/families.h"
#include "services/staffing/grpc_service.h"
#include "services/staffing/key_store.h"
#include "services/staffing/staffing.h"
#include "takt/staffing/v1/events.pb.h"
#include "takt/staffing/v1/staffing_service.grpc.pb.h"

namespace takt::staffing {
namespace {

class StaffingModule final : public host::Module {
 public:
  absl::Status Start(host::Env& env) override {
    TAKT_ASSIGN_OR_RETURN(keys_, KeyStore::Open(env.options().data_dir + "/personal-keys"));
    staffing_ = std::make_unique<Staffing>(env.log(), env.models(), keys_.get(),
                                           env.options().record_reads.personal_data);
    // An erasure interrupted after its event and before its key went:
    // finish it before serving.
    std::vector<std::string> facilities;
    env.models()->Read([&](const model::EnterpriseModel& m) { facilities = m.Facilities(); });
    for (const std::string& f : facilities) {
      if (absl::Status s = staffing_->CompleteErasures(f); !s.ok()) {
        log::Error(absl::StrCat("staffing/", f, ": pending erasures not completed: ", s.ToString()));
      }
    }
    service_ = NewStaffingService(staffing_.get(), env.models(), env.follows_model());
    return absl::OkStatus();
  }
  // The personal-data keys: without them the people's records in the log
  // cannot be read (crypto-shredding), so a backup must hold them.
  absl::Status Backup(const std::string& dir) override { return keys_->Backup(dir + "/personal-keys"); }

  std::vector<host::ServiceEntry> Services() override {
    host::ServiceEntry entry{.service = service_.get(),
                             .name = std::string(v1::StaffingService::service_full_name()),
                             .facility_methods = {"StreamAttendance"}};
    entry.http = host::ScopeRoutes(":expiringCertificates", "ListExpiringCertificates");
    entry.http.push_back({"GET", "/v1/facilities/{facility}:coverage", "GetCoverage"});
    // Personal data: recorded with its purpose, for the roles that may see it.
    entry.http.push_back({"GET", "/v1/facilities/{facility}/people/{person}", "GetPerson"});
    return {std::move(entry)};
  }

 private:
  std::unique_ptr<KeyStore> keys_;
  std::unique_ptr<Staffing> staffing_;
  std::unique_ptr<grpc::Service> service_;
};

}  // namespace

host::ModuleInfo Module() {
  host::ModuleInfo m;
  m.name = "staffing";
  m.owns = {{kStaffingContext, [](const std::string& facility) {
               return std::vector<std::string>{facility, StaffStream(facility)};
             }}};
  m.payload_files = {v1::PersonRegistered::descriptor()->file()};
  m.families = Families();
  m.create = [] { return std::make_unique<StaffingModule>(); };
  m.add_commands = AddStaffingCommands;
  return m;
}

}  // namespace takt::staffing
