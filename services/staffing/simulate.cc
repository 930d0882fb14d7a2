#include "services/staffing/simulate.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/cli/grpc_client.h"
#include "libs/cli/simulate_steps.h"
#include "libs/common/proto_time.h"
#include "libs/model/enterprise_model.h"
#include "services/scheduling/sim/simulator.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"
#include "takt/staffing/v1/staffing_service.grpc.pb.h"

namespace takt::staffing {
namespace {

std::string DayText(absl::CivilDay d) { return absl::FormatCivilTime(d); }

}  // namespace

StaffingSimulation SimulateStaffing(const StaffingSimOptions& o) {
  StaffingSimulation out;
  sim::SimOptions so;
  so.facilities = o.facilities;
  so.days = o.days;
  so.seed = o.seed;
  so.start = o.start;
  const sim::Simulation plants = sim::Simulate(so);
  std::map<std::string, enterprise::v1::Calendar> calendars;
  std::map<std::string, std::vector<std::string>> units;
  for (const auto& d : plants.enterprise.definitions()) {
    if (d.has_facility()) {
      out.facilities.push_back(d.facility().facility());
      calendars[d.facility().facility()] = d.facility().calendar();
    }
    if (d.has_work_unit()) units[d.work_unit().facility()].push_back(d.work_unit().work_unit());
    if (d.has_region()) out.regions.push_back(d.region().region());
  }
  std::mt19937_64 rng(o.seed * 104729 + 3);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int days = o.days;
  for (size_t fi = 0; fi < out.facilities.size(); ++fi) {
    const std::string& f = out.facilities[fi];
    const auto calendar = model::MakeCalendar(calendars[f]);
    if (!calendar.ok()) continue;
    std::vector<std::string> shifts;
    for (const auto& s : calendars[f].shifts()) shifts.push_back(s.name());
    const std::vector<std::string>& stations = units[f];
    const int people = static_cast<int>(stations.size() * shifts.size()) + 2;
    auto person = [](int k) { return absl::StrFormat("op-%03d", k + 1); };

    v1::ApplyStaffRequest record;
    record.set_facility(f);
    record.set_request_id(absl::StrCat("ssim-record-", f));
    auto* q = record.add_commands()->mutable_define_qualification();
    q->set_qualification("press-op");
    q->set_name("Press operator");
    q->set_validity_days(365);
    q = record.add_commands()->mutable_define_qualification();
    q->set_qualification("forklift");
    q->set_name("Forklift licence");
    q->set_validity_days(730);
    for (const std::string& station : stations) {
      auto* r = record.add_commands()->mutable_set_requirement();
      r->set_station(station);
      r->add_qualifications("press-op");
      r->set_min_people(1);
    }
    absl::CivilDay expiry_of_first;
    for (int k = 0; k < people; ++k) {
      auto* p = record.add_commands()->mutable_register_person();
      p->set_person(person(k));
      p->set_name(absl::StrFormat("Operator %d of %s (synthetic)", k + 1, f));
      p->set_contact(absl::StrFormat("op%d@%s.example", k + 1, f));
      p->set_home_station(stations[static_cast<size_t>(k) % stations.size()]);
      // Most certificates last beyond the simulation; some expire within
      // 30/60/90 days of it; the first operator of the first plant's
      // expires on the first simulated day.
      const absl::CivilDay expires =
          (fi == 0 && k == 0) ? o.start : o.start + days + uniform(3, 400);
      if (fi == 0 && k == 0) {
        expiry_of_first = expires;
        out.expiring_facility = f;
        out.expiring_person = person(k);
      }
      auto* g = record.add_commands()->mutable_grant_certification();
      g->set_person(person(k));
      g->set_qualification("press-op");
      g->set_certificate(absl::StrFormat("PO-%s-%03d", f, k + 1));
      g->set_issued(DayText(std::min(expires - 364, o.start - 1)));
      g->set_expires(DayText(expires));
      if (k >= people - 2) {
        auto* fl = record.add_commands()->mutable_grant_certification();
        fl->set_person(person(k));
        fl->set_qualification("forklift");
        fl->set_certificate(absl::StrFormat("FL-%s-%03d", f, k + 1));
        fl->set_issued(DayText(o.start - 100));
      }
    }
    out.records.push_back(std::move(record));

    v1::RosterRequest roster;
    roster.set_facility(f);
    roster.set_request_id(absl::StrCat("ssim-roster-", f));
    v1::ApplyStaffRequest events;
    events.set_facility(f);
    events.set_request_id(absl::StrCat("ssim-events-", f));
    uint64_t sequence = 0;
    for (int d = 0; d < days; ++d) {
      const absl::CivilDay day = o.start + d;
      v1::AttendanceBatch batch;
      batch.set_facility(f);
      batch.set_batch_id(static_cast<uint64_t>(d + 1));
      for (size_t si = 0; si < shifts.size(); ++si) {
        auto instance = calendar->Shift(day, shifts[si]);
        if (!instance.ok()) continue;
        for (size_t ui = 0; ui < stations.size(); ++ui) {
          const int k = static_cast<int>(si * stations.size() + ui);
          // The planner leaves the station open once the certificate has expired.
          if (fi == 0 && k == 0 && day > expiry_of_first) continue;
          auto* a = roster.add_assign();
          a->set_person(person(k));
          a->set_day(DayText(day));
          a->set_shift(shifts[si]);
          a->set_station(stations[ui]);
          if (uniform(0, 99) < 3) {  // an unplanned absence
            auto* ab = events.add_commands()->mutable_record_absence();
            ab->set_person(person(k));
            ab->set_day(DayText(day));
            ab->set_shift(shifts[si]);
            ab->set_kind(v1::UNPLANNED);
            ab->set_reason("sick");
            continue;
          }
          const absl::Time in = instance->interval.start - absl::Minutes(uniform(0, 10));
          const absl::Time leave =
              instance->interval.end + absl::Minutes(uniform(0, 99) < 10 ? uniform(30, 120) : uniform(0, 10));
          // Labour booked on the shift's work order from a quarter hour
          // after clocking in to a varying time before leaving.
          const std::string order = absl::StrCat("wo-", DayText(day), "-", shifts[si], "-", stations[ui]);
          const absl::Time job_start = in + absl::Minutes(15);
          const absl::Time job_end = instance->interval.end - absl::Minutes(uniform(15, 75));
          for (auto [kind, at] : {std::pair{v1::IN, in}, std::pair{v1::JOB_START, job_start},
                                  std::pair{v1::JOB_END, job_end}, std::pair{v1::OUT, leave}}) {
            auto* r = batch.add_records();
            r->set_source_id(absl::StrCat("clock-", f));
            r->set_source_sequence(++sequence);
            r->set_person(person(k));
            r->set_kind(kind);
            *r->mutable_at() = ToProto(at);
            r->set_station(stations[ui]);
            if (kind == v1::JOB_START || kind == v1::JOB_END) r->set_work_order(order);
          }
        }
      }
      out.batches.push_back(batch);
      if (fi == 0 && d == 0) out.batches.push_back(batch);  // a gateway's resend
    }
    auto* publish = roster.add_publish();
    publish->set_from(DayText(o.start));
    publish->set_to(DayText(o.start + (days - 1)));
    out.rosters.push_back(std::move(roster));

    // Safety: a near miss everywhere, first aid in every other plant, a
    // recordable case in the second plant, a days-away case in the third.
    auto incident = [&](const std::string& id, v1::IncidentClass c, int k, int day, uint32_t away,
                        const std::string& narrative) {
      auto* i = events.add_commands()->mutable_report_incident();
      i->set_incident(id);
      i->set_person(person(k));
      i->set_station(stations[static_cast<size_t>(k) % stations.size()]);
      i->set_shift(shifts[0]);
      auto shift = calendar->Shift(o.start + day, shifts[0]);
      *i->mutable_occurred() = ToProto(shift.ok() ? shift->interval.start + absl::Hours(3) : absl::Now());
      i->set_classification(c);
      i->set_days_away(away);
      i->set_narrative(narrative);
    };
    incident("nm-1", v1::NEAR_MISS, 1, 0, 0, "pallet slipped from the forklift forks, nobody hurt");
    if (fi % 2 == 0) incident("fa-1", v1::FIRST_AID, 2, days - 1, 0, "small cut on a sheet edge, plaster");
    if (fi == 1) incident("rc-1", v1::OTHER_RECORDABLE, 3, 1, 0, "strained wrist lifting a die; physiotherapy");
    if (fi == 2) {
      incident("da-1", v1::DAYS_AWAY, 4, 0, 3, "foot crushed by a falling blank; three days at home");
      auto* a = events.add_commands()->mutable_assign_incident_action();
      a->set_incident("da-1");
      a->set_action("guard-1");
      a->set_description("guard rail at the blank stacker");
      a->set_owner("maintenance");
      a->set_due(DayText(o.start + days));
      auto* c = events.add_commands()->mutable_complete_incident_action();
      c->set_incident("da-1");
      c->set_action("guard-1");
      c->set_completed(DayText(o.start + 1));
    }
    out.incidents.push_back(std::move(events));
  }
  return out;
}

int RunStaffingSimulate(const StaffingSimArgs& args, std::ostream& out, std::ostream& err) {
  StaffingSimOptions o = args.options;
  auto start = cli::SimulationStart(args.start, o.days, "staffing simulate", err);
  if (!start) return 2;
  o.start = *start;
  const StaffingSimulation s = SimulateStaffing(o);
  auto channel = cli::Connect(args.target, "staffing", err);
  auto rollups_channel = cli::Connect(args.target, "rollups", err);
  if (!channel || !rollups_channel) return 2;
  auto stub = v1::StaffingService::NewStub(channel);
  for (const auto& r : s.records) {
    grpc::ClientContext ctx;
    v1::ApplyStaffResponse resp;
    grpc::Status st = stub->ApplyStaff(&ctx, r, &resp);
    if (!st.ok()) {
      return cli::Fail(err, absl::StrCat("staffing simulate: people of ", r.facility(),
                                         " (run takt simulate with the same options first)"),
                       st);
    }
  }
  uint32_t assigned = 0;
  for (const auto& r : s.rosters) {
    grpc::ClientContext ctx;
    v1::RosterResponse resp;
    grpc::Status st = stub->AssignRoster(&ctx, r, &resp);
    if (!st.ok()) return cli::Fail(err, absl::StrCat("staffing simulate: roster of ", r.facility()), st);
    assigned += resp.assigned() + resp.unchanged();
  }
  // The one the planner could not roster any more: what the service says.
  {
    v1::RosterRequest r;
    r.set_facility(s.expiring_facility);
    r.set_validate_only(true);
    auto* a = r.add_assign();
    a->set_person(s.expiring_person);
    a->set_day(DayText(o.start + (o.days - 1)));
    a->set_shift(s.rosters.empty() || s.rosters[0].assign().empty() ? "A" : s.rosters[0].assign(0).shift());
    a->set_station(s.rosters.empty() || s.rosters[0].assign().empty() ? "" : s.rosters[0].assign(0).station());
    grpc::ClientContext ctx;
    v1::RosterResponse resp;
    if (stub->AssignRoster(&ctx, r, &resp).ok() && resp.problems_size() > 0) {
      out << "staffing: roster check refused: " << resp.problems(0).reason() << "\n";
    }
  }
  uint64_t accepted = 0, duplicates = 0, rejected = 0;
  {
    grpc::ClientContext ctx;
    auto stream = stub->StreamAttendance(&ctx);
    for (const auto& b : s.batches) {
      if (!stream->Write(b)) break;
      v1::AttendanceAck ack;
      if (!stream->Read(&ack)) break;
      accepted += ack.accepted();
      duplicates += ack.duplicates();
      rejected += ack.rejected_size() + ack.rejected_not_listed();
      for (const auto& x : ack.rejected()) err << "rejected punch: " << x.reason() << "\n";
    }
    stream->WritesDone();
    grpc::Status st = stream->Finish();
    if (!st.ok()) return cli::Fail(err, "staffing simulate: attendance", st);
  }
  for (const auto& r : s.incidents) {
    grpc::ClientContext ctx;
    v1::ApplyStaffResponse resp;
    grpc::Status st = stub->ApplyStaff(&ctx, r, &resp);
    if (!st.ok()) return cli::Fail(err, absl::StrCat("staffing simulate: incidents of ", r.facility()), st);
  }
  out << absl::StrFormat("staffing: %d shift assignments, %d clock punches recorded (%d resent), %d rejected\n",
                         assigned, accepted, duplicates, rejected);

  const std::string from = DayText(o.start);
  const std::string to = DayText(o.start + (o.days - 1));
  out << "Coverage gaps (qualified people short of the requirement), " << from << " to " << to << ":\n";
  int total_gaps = 0;
  for (const std::string& f : s.facilities) {
    v1::CoverageRequest cr;
    cr.set_facility(f);
    cr.set_from(from);
    cr.set_to(to);
    grpc::ClientContext ctx;
    v1::CoverageResponse c;
    grpc::Status st = stub->GetCoverage(&ctx, cr, &c);
    if (!st.ok()) return cli::Fail(err, absl::StrCat("staffing simulate: coverage of ", f), st);
    total_gaps += static_cast<int>(c.gaps());
    for (const auto& row : c.rows()) {
      if (row.qualified() >= row.required()) continue;
      out << absl::StrFormat("  %-14s %s shift %s  %-10s %d of %d qualified (needs %s)\n", f, row.day(),
                             row.shift(), row.station(), row.qualified(), row.required(),
                             row.qualifications().empty() ? "-" : row.qualifications(0));
    }
  }
  if (total_gaps == 0) out << "  none\n";
  {
    v1::ExpiringRequest er;
    er.set_scope("enterprise");
    er.set_within_days(90);
    grpc::ClientContext ctx;
    v1::ExpiringResponse e;
    grpc::Status st = stub->ListExpiringCertificates(&ctx, er, &e);
    if (!st.ok()) return cli::Fail(err, "staffing simulate: certificates", st);
    out << absl::StrFormat("Certificates expiring within 30/60/90 days: %d/%d/%d (expired: %d); soonest:\n",
                           e.within_30(), e.within_60(), e.within_90(), e.expired());
    for (int i = 0; i < e.certificates_size() && i < 5; ++i) {
      const auto& c = e.certificates(i);
      out << absl::StrFormat("  %-14s %-8s %-9s %s (%d days)\n", c.facility(), c.person(), c.qualification(),
                             c.expires(), c.days_left());
    }
  }
  // Safety by region, once the rollups have caught up.
  auto rollups = rollups::v1::RollupService::NewStub(rollups_channel);
  rollups::v1::QueryKpisResponse by_region;
  for (int i = 0; i < 300; ++i) {
    rollups::v1::QueryKpisRequest q;
    q.set_scope("enterprise");
    q.set_by("child");
    for (const char* k : {"safety_trir", "safety_dart", "safety_recordable_cases", "hours_worked",
                          "staffing_coverage", "overtime_ratio", "absenteeism", "worker_efficiency"}) {
      q.add_kpis(k);
    }
    q.set_from(from);
    q.set_to(to);
    grpc::ClientContext ctx;
    grpc::Status st = rollups->QueryKpis(&ctx, q, &by_region);
    if (!st.ok()) return cli::Fail(err, "staffing simulate: rollups", st);
    if (by_region.lag_events() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto value = [](const rollups::v1::Row& row, const std::string& kpi) -> std::string {
    for (const auto& k : row.kpis()) {
      if (k.kpi() != kpi) continue;
      if (!k.has_value()) return "-";
      return kpi == "safety_recordable_cases" ? absl::StrFormat("%.0f", k.value())
             : kpi == "hours_worked"          ? absl::StrFormat("%.1f", k.value())
                                              : absl::StrFormat("%.2f", k.value());
    }
    return "-";
  };
  out << "Safety and labour by region (cases and hours pooled, per 200,000 h worked; a few days of a few\n"
         "plants is a small sample):\n";
  out << absl::StrFormat("  %-18s %8s %8s %10s %10s %9s %9s %12s %11s\n", "region", "TRIR", "DART", "recordable",
                         "hours", "coverage%", "overtime%", "absenteeism%", "efficiency%");
  std::vector<const rollups::v1::Row*> rows;
  for (const auto& r : by_region.rows()) rows.push_back(&r);
  rows.push_back(&by_region.total());
  for (const auto* r : rows) {
    out << absl::StrFormat("  %-18s %8s %8s %10s %10s %9s %9s %12s %11s\n", r->label().empty() ? "enterprise" : r->label(),
                           value(*r, "safety_trir"), value(*r, "safety_dart"),
                           value(*r, "safety_recordable_cases"), value(*r, "hours_worked"),
                           value(*r, "staffing_coverage"), value(*r, "overtime_ratio"),
                           value(*r, "absenteeism"), value(*r, "worker_efficiency"));
  }
  return 0;
}

}  // namespace takt::staffing
