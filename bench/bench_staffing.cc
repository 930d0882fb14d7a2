#include "bench/bench_staffing.h"

#include <algorithm>

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/host/host.h"
#include "libs/model/model_store.h"
#include "services/enterprise/definitions.h"
#include "services/registry.h"
#include "services/staffing/key_store.h"
#include "services/staffing/staffing.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "takt/staffing/v1/staffing_service.grpc.pb.h"

namespace takt::cli {

namespace ev1 = ::takt::enterprise::v1;
namespace sv1 = ::takt::staffing::v1;

namespace {

constexpr int kStations = 20;
constexpr const char* kShifts[] = {"A", "B", "C"};

std::string Day(absl::CivilDay d) { return absl::FormatCivilTime(d); }

}  // namespace

absl::StatusOr<std::vector<BenchResult>> RunStaffingBenchmark(const BenchStaffingOptions& o) {
  if (o.facilities < 1 || o.people < 3 || o.days < 2 || o.roster_size < 1 || o.queries < 1 || o.erasures < 1) {
    return absl::InvalidArgumentError("every option must be positive (people at least 3, days at least 2)");
  }
  if (o.erasures > o.facilities * o.people) {
    return absl::InvalidArgumentError("--erasures: more than the people there are");
  }
  const std::string dir = BenchTempDir("staffing");
  std::vector<BenchResult> results;
  // History ends before today: the gRPC run checks punches against the
  // server's clock.
  const absl::CivilDay first =
      std::min(absl::CivilDay(2026, 1, 5), absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) - (o.days + 2));
  const absl::Time now = absl::FromCivil(first + o.days + 1, absl::UTCTimeZone());
  ev1::ApplyDefinitionsRequest apply;
  apply.set_request_id("bench-staffing-setup");
  for (int f = 0; f < o.facilities; ++f) {
    const std::string id = absl::StrCat("plant-", f);
    auto* fd = apply.add_definitions()->mutable_facility();
    fd->set_facility(id);
    fd->mutable_calendar()->set_time_zone("UTC");
    fd->mutable_calendar()->set_day_start("06:00");
    for (auto [n, s, e] : {std::tuple{"A", "06:00", "14:00"}, std::tuple{"B", "14:00", "22:00"},
                           std::tuple{"C", "22:00", "06:00"}}) {
      auto* shift = fd->mutable_calendar()->add_shifts();
      shift->set_name(n);
      shift->set_start(s);
      shift->set_end(e);
    }
    auto* a = apply.add_definitions()->mutable_area();
    a->set_facility(id);
    a->set_area("a");
    auto* w = apply.add_definitions()->mutable_work_center();
    w->set_facility(id);
    w->set_area("a");
    w->set_work_center("wc");
    for (int s = 0; s < kStations; ++s) {
      auto* u = apply.add_definitions()->mutable_work_unit();
      u->set_facility(id);
      u->set_work_center("wc");
      u->set_work_unit(absl::StrCat("st-", s));
    }
  }
  auto person = [](int k) { return absl::StrCat("e-", k); };
  // Person k works shift k % 3 at station k % kStations, every day.
  auto records = [&](const std::string& facility) {
    sv1::ApplyStaffRequest r;
    r.set_facility(facility);
    auto* q = r.add_commands()->mutable_define_qualification();
    q->set_qualification("op");
    q->set_name("Operator");
    for (int s = 0; s < kStations; ++s) {
      auto* req = r.add_commands()->mutable_set_requirement();
      req->set_station(absl::StrCat("st-", s));
      req->add_qualifications("op");
      req->set_min_people(2);
    }
    for (int k = 0; k < o.people; ++k) {
      auto* p = r.add_commands()->mutable_register_person();
      p->set_person(person(k));
      p->set_name(absl::StrCat("Bench Person ", k));
      p->set_contact(absl::StrCat("p", k, "@example.com"));
      auto* g = r.add_commands()->mutable_grant_certification();
      g->set_person(person(k));
      g->set_qualification("op");
      g->set_certificate(absl::StrCat("OP-", k));
      g->set_issued("2025-06-01");
      g->set_expires("2027-06-01");
      auto* e = r.add_commands()->mutable_record_evaluation();
      e->set_person(person(k));
      e->set_period("2025-H2");
      e->set_rating(3 + k % 3);
      e->set_comments(absl::StrCat("Evaluation comments of person ", k));
    }
    return r;
  };
  auto rosters = [&](const std::string& facility) {
    std::vector<sv1::RosterRequest> out(1);
    for (int d = 0; d < o.days; ++d) {
      for (int k = 0; k < o.people; ++k) {
        if (out.back().assign_size() == 1000) out.emplace_back();
        auto* a = out.back().add_assign();
        a->set_person(person(k));
        a->set_day(Day(first + d));
        a->set_shift(kShifts[k % 3]);
        a->set_station(absl::StrCat("st-", k % kStations));
      }
    }
    for (auto& r : out) r.set_facility(facility);
    return out;
  };
  // Punches: batches of up to 1,000 in time order.
  uint64_t punches = 0;
  std::vector<std::vector<sv1::AttendanceBatch>> batches(static_cast<size_t>(o.facilities));
  for (int f = 0; f < o.facilities; ++f) {
    auto& list = batches[static_cast<size_t>(f)];
    uint64_t seq = 0;
    for (int d = 0; d < o.days; ++d) {
      for (int shift = 0; shift < 3; ++shift) {
        const absl::Time start = absl::FromCivil(first + d, absl::UTCTimeZone()) + absl::Hours(6 + 8 * shift);
        for (int kind = 0; kind < 2; ++kind) {
          for (int k = shift; k < o.people; k += 3) {
            if (list.empty() || list.back().records_size() == 1000) {
              list.emplace_back();
              list.back().set_facility(absl::StrCat("plant-", f));
            }
            auto* r = list.back().add_records();
            r->set_source_id("clock-1");
            r->set_source_sequence(++seq);
            r->set_person(person(k));
            r->set_kind(kind == 0 ? sv1::IN : sv1::OUT);
            *r->mutable_at() = ToProto(kind == 0 ? start - absl::Minutes(k % 7)
                                                 : start + absl::Hours(8) + absl::Minutes(k % 11));
            r->set_station(absl::StrCat("st-", k % kStations));
            ++punches;
          }
        }
      }
    }
  }
  {
    eventlog::EmbeddedLogOptions lo;
    lo.data_dir = dir;
    TAKT_ASSIGN_OR_RETURN(auto log, eventlog::OpenEmbeddedLog(lo));
    model::ModelStore models(log.get());
    TAKT_RETURN_IF_ERROR(
        enterprise::Definitions(log.get(), &models).Apply(apply, {"bench", absl::Now()}).status());
    TAKT_RETURN_IF_ERROR(models.Refresh());
    TAKT_ASSIGN_OR_RETURN(auto keys, staffing::KeyStore::Open(dir + "/personal-keys"));
    staffing::Staffing s(log.get(), &models, keys.get());
    for (int f = 0; f < o.facilities; ++f) {
      const std::string facility = absl::StrCat("plant-", f);
      TAKT_RETURN_IF_ERROR(s.ApplyStaff(records(facility), {"bench", now}).status());
      for (const auto& r : rosters(facility)) {
        TAKT_ASSIGN_OR_RETURN(sv1::RosterResponse resp, s.AssignRoster(r, {"bench", now}));
        if (resp.problems_size() > 0) return absl::InternalError(resp.problems(0).reason());
      }
    }

    // Attendance in process: Ingest returns once the batch is durable.
    absl::Duration busy;
    std::vector<double> ack_ms;
    for (const auto& list : batches) {
      for (const auto& b : list) {
        const absl::Time t0 = absl::Now();
        TAKT_ASSIGN_OR_RETURN(sv1::AttendanceAck ack, s.Ingest(b, now, "bench"));
        const absl::Duration took = absl::Now() - t0;
        busy += took;
        ack_ms.push_back(absl::ToDoubleMilliseconds(took));
        if (ack.rejected_size() > 0) return absl::InternalError(ack.rejected(0).reason());
      }
    }
    BenchResult ingest;
    ingest.name = "staffing_attendance_ingest";
    ingest.events = punches;
    ingest.seconds = absl::ToDoubleSeconds(busy);
    ingest.events_per_second = static_cast<double>(punches) / ingest.seconds;
    ingest.p50_ms = Percentile(ack_ms, 0.5);
    ingest.p99_ms = Percentile(ack_ms, 0.99);
    results.push_back(ingest);

    // A roster of roster_size assignments for days after the history,
    // validated: every person, day, shift, station and certificate checked
    // against the facility's record (with its history of assignments).
    sv1::RosterRequest check;
    check.set_facility("plant-0");
    check.set_validate_only(true);
    for (int i = 0; i < o.roster_size; ++i) {
      const int k = i % o.people;
      auto* a = check.add_assign();
      a->set_person(person(k));
      a->set_day(Day(first + o.days + 1 + i / o.people));
      a->set_shift(kShifts[k % 3]);
      a->set_station(absl::StrCat("st-", k % kStations));
    }
    std::vector<double> roster_ms;
    for (int i = 0; i < o.queries; ++i) {
      const absl::Time t0 = absl::Now();
      TAKT_ASSIGN_OR_RETURN(sv1::RosterResponse resp, s.AssignRoster(check, {"bench", now}));
      roster_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      if (resp.problems_size() > 0 || resp.assigned() != static_cast<uint32_t>(o.roster_size)) {
        return absl::InternalError("the validated roster was not clean");
      }
    }
    BenchResult roster;
    roster.name = absl::StrCat("staffing_roster_validate_", o.roster_size, "_with_",
                               o.people * o.days, "_assignments_recorded");
    roster.events = static_cast<uint64_t>(o.queries);
    roster.p50_ms = Percentile(roster_ms, 0.5);
    roster.p99_ms = Percentile(roster_ms, 0.99);
    results.push_back(roster);

    // The key store alone: destroying a key and purging it from its files.
    std::vector<double> destroy_ms;
    for (int i = 0; i < o.erasures; ++i) {
      const std::string subject = absl::StrCat("probe-", i);
      TAKT_RETURN_IF_ERROR(staffing::Seal(*keys, "probe", subject, "name", "x").status());
      const absl::Time t0 = absl::Now();
      TAKT_RETURN_IF_ERROR(keys->Destroy("probe", subject));
      destroy_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    }
    BenchResult destroy;
    destroy.name = "staffing_key_destroy";
    destroy.events = static_cast<uint64_t>(o.erasures);
    destroy.p50_ms = Percentile(destroy_ms, 0.5);
    destroy.p99_ms = Percentile(destroy_ms, 0.99);
    results.push_back(destroy);

    // Erasing people (each with a name, contact, evaluation, o.days of
    // rosters and attendance): the event, then the key destroyed.
    std::vector<double> erase_ms;
    for (int i = 0; i < o.erasures; ++i) {
      sv1::EraseRequest r;
      r.set_facility(absl::StrCat("plant-", i % o.facilities));
      r.set_person(person(i / o.facilities));
      r.set_reason("bench erasure");
      const absl::Time t0 = absl::Now();
      TAKT_ASSIGN_OR_RETURN(sv1::EraseResponse resp, s.Erase(r, {"bench", now}));
      erase_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      if (resp.sealed_fields() != 3) return absl::InternalError("an erasure missed sealed values");
    }
    BenchResult erase;
    erase.name = absl::StrCat("staffing_erase_person_history_", o.days, "d");
    erase.events = static_cast<uint64_t>(o.erasures);
    erase.p50_ms = Percentile(erase_ms, 0.5);
    erase.p99_ms = Percentile(erase_ms, 0.99);
    results.push_back(erase);
  }

  // Through gRPC: a server on its own data directory, one attendance stream
  // per plant (as its time-clock gateway would), acknowledgements awaited
  // batch by batch; wall time from the first batch sent to the last acked.
  {
    host::ServerOptions opts;
    opts.security.insecure = true;  // a loopback benchmark
    opts.data_dir = dir + "/grpc";
    opts.listen = "127.0.0.1:0";
    TAKT_ASSIGN_OR_RETURN(auto server, services::StartServer(opts));
    auto channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server->port()), grpc::InsecureChannelCredentials());
    {
      grpc::ClientContext ctx;
      ev1::ApplyDefinitionsResponse resp;
      grpc::Status st = ev1::EnterpriseService::NewStub(channel)->ApplyDefinitions(&ctx, apply, &resp);
      if (!st.ok()) return absl::InternalError(st.error_message());
    }
    auto stub = sv1::StaffingService::NewStub(channel);
    for (int f = 0; f < o.facilities; ++f) {
      grpc::ClientContext ctx;
      sv1::ApplyStaffResponse resp;
      grpc::Status st = stub->ApplyStaff(&ctx, records(absl::StrCat("plant-", f)), &resp);
      if (!st.ok()) return absl::InternalError(st.error_message());
    }
    std::vector<std::thread> gateways;
    std::vector<std::string> errors(static_cast<size_t>(o.facilities));
    std::vector<double> grpc_ms;
    absl::Mutex ms_mu;
    const absl::Time t0 = absl::Now();
    for (int f = 0; f < o.facilities; ++f) {
      gateways.emplace_back([&, f] {
        grpc::ClientContext ctx;
        auto stream = stub->StreamAttendance(&ctx);
        for (const auto& b : batches[static_cast<size_t>(f)]) {
          const absl::Time sent = absl::Now();
          sv1::AttendanceAck ack;
          if (!stream->Write(b) || !stream->Read(&ack)) break;
          {
            absl::MutexLock lock(&ms_mu);
            grpc_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - sent));
          }
          if (ack.rejected_size() > 0) errors[static_cast<size_t>(f)] = ack.rejected(0).reason();
        }
        stream->WritesDone();
        grpc::Status st = stream->Finish();
        if (!st.ok()) errors[static_cast<size_t>(f)] = st.error_message();
      });
    }
    for (auto& g : gateways) g.join();
    const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);
    server->Shutdown();
    for (const std::string& e : errors) {
      if (!e.empty()) return absl::InternalError(absl::StrCat("gRPC attendance: ", e));
    }
    BenchResult g;
    g.name = "staffing_attendance_ingest_grpc";
    g.events = punches;
    g.seconds = seconds;
    g.events_per_second = static_cast<double>(punches) / seconds;
    g.p50_ms = Percentile(grpc_ms, 0.5);
    g.p99_ms = Percentile(grpc_ms, 0.99);
    results.push_back(g);
  }
  std::filesystem::remove_all(dir);
  return results;
}

}  // namespace takt::cli
