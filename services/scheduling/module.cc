#include "services/scheduling/module.h"

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/plan_stream.h"
#include "libs/common/status_macros.h"
#include "libs/model/enterprise_model.h"
#include "libs/host/host.h"
#include "services/scheduling/cli.h"
#include "services/scheduling/grpc_service.h"
#include "services/scheduling/recompute.h"
#include "takt/scheduling/v1/events.pb.h"
#include "takt/scheduling/v1/ingest.grpc.pb.h"
#include "takt/scheduling/v1/planning.pb.h"
#include "takt/scheduling/v1/planning_service.grpc.pb.h"

namespace takt::scheduling {
namespace {

constexpr char kEarliestFlag[] = "earliest-observation";
constexpr char kLatenessFlag[] = "max-lateness-days";
constexpr char kEarliestDefault[] = "2000-01-01";
constexpr char kLatenessDefault[] = "35";

// The ingest horizon (ingest.h) from `takt serve`'s flags.
absl::StatusOr<HorizonPolicy> HorizonFromFlags(const std::map<std::string, std::string>& flags) {
  auto get = [&](const char* name, const char* fallback) {
    auto it = flags.find(name);
    return it == flags.end() ? std::string(fallback) : it->second;
  };
  HorizonPolicy horizon;
  const std::string earliest = get(kEarliestFlag, kEarliestDefault);
  auto day = model::ParseDay(earliest);
  if (!day.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", kEarliestFlag, ": ", day.status().message()));
  }
  horizon.earliest = absl::FromCivil(*day, absl::UTCTimeZone());
  const std::string lateness = get(kLatenessFlag, kLatenessDefault);
  int days = 0;
  if (!absl::SimpleAtoi(lateness, &days) || days < 0 || days > 36600) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", kLatenessFlag, " is ", lateness, ": must be 0 (no bound) or a number of days"));
  }
  horizon.max_lateness = absl::Hours(24) * days;
  return horizon;
}

class SchedulingModule final : public host::Module {
 public:
  absl::Status Start(host::Env& env) override {
    TAKT_ASSIGN_OR_RETURN(HorizonPolicy horizon, HorizonFromFlags(env.options().module_flags));
    ingest_ = NewIngestService(env.log(), env.models(), env.follows_model(), horizon);
    plans_ = std::make_unique<PlanningStore>(env.log(), env.models());
    scheduling_ = NewSchedulingService(plans_.get(), env.models());
    return absl::OkStatus();
  }
  std::vector<host::ServiceEntry> Services() override {
    return {{.service = ingest_.get(), .name = std::string(v1::FacilityIngestService::service_full_name()), .facility_methods = {"StreamObservations"}},
            {.service = scheduling_.get(),
             .name = std::string(v1::SchedulingService::service_full_name()),
             .http = {{"GET", "/v1/facilities/{facility}/workOrders", "ListWorkOrders"}}}};
  }

 private:
  std::unique_ptr<grpc::Service> ingest_;
  std::unique_ptr<PlanningStore> plans_;
  std::unique_ptr<grpc::Service> scheduling_;
};

}  // namespace

host::ModuleInfo Module() {
  host::ModuleInfo m;
  m.name = "scheduling";
  m.owns = {{kSchedulingContext, [](const std::string& facility) {
               return std::vector<std::string>{facility, PlanStream(facility)};
             }}};
  // The production elements (ISO 22400) of the rollups: its projection and
  // explain's recomputation (recompute.h).
  m.extensions.push_back(ProductionFold());
  // Crew-aware planning reads staffing's requirements and coverage (crew.h).
  m.reads = {kStaffingContext};
  m.payload_files = {v1::UnitStateChanged::descriptor()->file(),
                     v1::WorkOrderCreated::descriptor()->file()};
  m.create = [] { return std::make_unique<SchedulingModule>(); };
  m.add_serve_flags = [](CLI::App& serve, std::map<std::string, std::string>* flags) {
    (*flags)[kEarliestFlag] = kEarliestDefault;
    (*flags)[kLatenessFlag] = kLatenessDefault;
    serve.add_option(absl::StrCat("--", kEarliestFlag), (*flags)[kEarliestFlag],
                     "scheduling: refuse observations before this day (YYYY-MM-DD, UTC)")
        ->capture_default_str();
    serve.add_option(absl::StrCat("--", kLatenessFlag), (*flags)[kLatenessFlag],
                     "scheduling: refuse observations more than this many days behind the newest "
                     "one a facility has accepted (0: no bound)")
        ->capture_default_str();
  };
  m.add_commands = cli::AddSchedulingCommands;
  return m;
}

}  // namespace takt::scheduling
