#include "services/quality/simulate.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cmath>
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
#include "takt/quality/v1/quality_service.grpc.pb.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"

namespace takt::quality {
namespace {

constexpr int kBoreEveryMinutes = 30;
constexpr int kFinishEveryHours = 2;

}  // namespace

QualitySimulation SimulateQuality(const QualitySimOptions& o) {
  QualitySimulation out;
  sim::SimOptions so;
  so.facilities = o.facilities;
  so.days = o.days;
  so.seed = o.seed;
  so.start = o.start;
  const sim::Simulation plants = sim::Simulate(so);
  // The first work unit of each facility.
  std::map<std::string, std::string> unit_of;
  for (const auto& d : plants.enterprise.definitions()) {
    if (d.has_facility()) out.facilities.push_back(d.facility().facility());
    if (d.has_work_unit()) unit_of.try_emplace(d.work_unit().facility(), d.work_unit().work_unit());
  }
  if (out.facilities.size() >= 2) out.shifted = out.facilities[1];
  if (out.facilities.size() >= 3) out.drifting = out.facilities[2];
  std::mt19937_64 rng(o.seed * 7919 + 17);
  for (size_t fi = 0; fi < out.facilities.size(); ++fi) {
    const std::string& f = out.facilities[fi];
    v1::ApplyPlansRequest plans;
    plans.set_facility(f);
    plans.set_request_id(absl::StrCat("qsim-plans-", f));
    for (const char* code : {"SCRATCH", "DENT", "BURR"}) {
      auto* c = plans.add_defect_codes();
      c->set_code(code);
      c->set_severity("minor");
    }
    auto* p = plans.add_plans();
    p->set_plan_id("housing-op20");
    p->set_product("housing");
    p->set_work_unit(unit_of[f]);
    p->set_effective_from("2000-01-01");
    auto* bore = p->add_characteristics();
    bore->set_id("bore-dia");
    bore->set_name("Bore diameter");
    bore->set_chart(v1::XBAR_R);
    bore->set_nominal(10.0);
    bore->set_lower_spec(9.95);
    bore->set_upper_spec(10.05);
    bore->set_unit("mm");
    bore->set_subgroup_size(5);
    bore->set_resolution(0.001);
    bore->set_sampling_interval_s(kBoreEveryMinutes * 60);
    bore->add_extra_rules(5);
    auto* finish = p->add_characteristics();
    finish->set_id("finish");
    finish->set_name("Surface finish");
    finish->set_chart(v1::P);
    finish->add_defect_codes("SCRATCH");
    finish->add_defect_codes("DENT");
    finish->add_defect_codes("BURR");
    finish->set_opportunities_per_unit(3);
    out.plans.push_back(std::move(plans));

    // Plants differ: centring and spread, so their Cpk differ.
    const double bias = 0.002 * static_cast<double>(fi % 4) - 0.003;
    const double sigma = 0.006 + 0.001 * static_cast<double>(fi % 3);
    std::normal_distribution<double> noise(0.0, sigma);
    const double defect_rate = fi == 3 ? 0.08 : 0.02;
    uint64_t bore_seq = 0, finish_seq = 0;
    for (int d = 0; d < o.days; ++d) {
      v1::SampleBatch batch;
      batch.set_facility(f);
      const absl::Time day0 = absl::FromCivil(o.start + d, absl::UTCTimeZone());
      const int per_day = 24 * 60 / kBoreEveryMinutes;
      for (int i = 0; i < per_day; ++i) {
        const absl::Time at = day0 + absl::Minutes(i * kBoreEveryMinutes);
        double mean = 10.0 + bias;
        if (d >= 1 && f == out.shifted && i >= per_day / 2) mean += 2.5 * sigma;  // a shift
        if (d >= 1 && f == out.drifting && i >= 20 && i < 30) mean += 0.6 * sigma * (i - 19);  // a drift
        auto* s = batch.add_samples();
        s->set_source_id("cmm-1");
        s->set_source_sequence(++bore_seq);
        *s->mutable_source_time() = ToProto(at);
        s->set_characteristic("bore-dia");
        s->set_lot(absl::StrCat("L", absl::FormatTime("%m%d", at, absl::UTCTimeZone()), "-", i / 16));
        s->mutable_measurement()->set_unit("mm");
        for (int k = 0; k < 5; ++k) {
          s->mutable_measurement()->add_values(std::round((mean + noise(rng)) * 1000) / 1000);
        }
        if (i % (kFinishEveryHours * 60 / kBoreEveryMinutes) == 0) {
          std::binomial_distribution<int> failed(50, defect_rate);
          const int bad = failed(rng);
          auto* in = batch.add_samples();
          in->set_source_id("vision-1");
          in->set_source_sequence(++finish_seq);
          *in->mutable_source_time() = ToProto(at);
          in->set_characteristic("finish");
          in->mutable_inspection()->set_inspected(50);
          in->mutable_inspection()->set_failed(static_cast<uint32_t>(bad));
          if (bad > 0) {
            auto* dc = in->mutable_inspection()->add_defects();
            dc->set_code(rng() % 3 == 0 ? "DENT" : "SCRATCH");
            dc->set_count(static_cast<uint32_t>(bad + static_cast<int>(rng() % 2)));
          }
        }
      }
      out.batches.push_back(std::move(batch));
    }
  }
  return out;
}

int RunQualitySimulate(const QualitySimArgs& args, std::ostream& out, std::ostream& err) {
  QualitySimOptions o = args.options;
  auto start = cli::SimulationStart(args.start, o.days, "quality simulate", err);
  if (!start) return 2;
  o.start = *start;
  const QualitySimulation s = SimulateQuality(o);
  auto channel = cli::Connect(args.target, "quality", err);
  auto rollups_channel = cli::Connect(args.target, "rollups", err);
  if (!channel || !rollups_channel) return 2;
  auto stub = v1::QualityService::NewStub(channel);
  for (const auto& plans : s.plans) {
    grpc::ClientContext ctx;
    v1::ApplyPlansResponse resp;
    grpc::Status st = stub->ApplyPlans(&ctx, plans, &resp);
    if (!st.ok()) {
      return cli::Fail(err, absl::StrCat("quality simulate: plans of ", plans.facility(),
                                         " (run takt simulate with the same options first)"),
                       st);
    }
  }
  // Day 1 of each plant, then its limits, then the other days.
  uint64_t accepted = 0, duplicates = 0, violations = 0;
  auto send = [&](const v1::SampleBatch& b) -> grpc::Status {
    grpc::ClientContext ctx;
    auto stream = stub->StreamSamples(&ctx);
    if (stream->Write(b)) {
      v1::SampleAck ack;
      if (stream->Read(&ack)) {
        accepted += ack.accepted();
        duplicates += ack.duplicates();
        violations += ack.violations();
        for (const auto& r : ack.rejected()) err << "rejected: " << r.reason() << "\n";
      }
    }
    stream->WritesDone();
    return stream->Finish();
  };
  const size_t days = static_cast<size_t>(o.days);
  for (size_t fi = 0; fi < s.facilities.size(); ++fi) {
    const std::string& f = s.facilities[fi];
    for (size_t d = 0; d < days; ++d) {
      grpc::Status st = send(s.batches[fi * days + d]);
      if (!st.ok()) return cli::Fail(err, absl::StrCat("quality simulate: samples of ", f), st);
      if (d != 0) continue;
      v1::ApproveLimitsRequest lr;
      lr.set_facility(f);
      lr.set_characteristic("bore-dia");
      lr.set_request_id(absl::StrCat("qsim-limits-", f));
      *lr.mutable_baseline_from() = ToProto(absl::FromCivil(o.start, absl::UTCTimeZone()));
      *lr.mutable_baseline_to() = ToProto(absl::FromCivil(o.start + 1, absl::UTCTimeZone()));
      lr.set_reason("initial capability study");
      grpc::ClientContext ctx;
      v1::LimitsApproved limits;
      st = stub->ApproveLimits(&ctx, lr, &limits);
      if (!st.ok()) return cli::Fail(err, absl::StrCat("quality simulate: limits of ", f), st);
      lr.set_characteristic("finish");
      lr.set_request_id(absl::StrCat("qsim-limits-finish-", f));
      grpc::ClientContext ctx2;
      st = stub->ApproveLimits(&ctx2, lr, &limits);
      if (!st.ok()) return cli::Fail(err, absl::StrCat("quality simulate: limits of ", f), st);
    }
  }
  // NCRs: one per plant with a planted signal, at different stages.
  const std::string due = absl::FormatCivilTime(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) + 7);
  auto ncr = [&](const std::string& f, const std::string& key, v1::NcrCommand c) -> grpc::Status {
    v1::NcrRequest r;
    r.set_facility(f);
    r.set_request_id(absl::StrCat("qsim-", f, "-", key));
    *r.mutable_command() = std::move(c);
    grpc::ClientContext ctx;
    v1::NcrResponse resp;
    return stub->ExecuteNcr(&ctx, r, &resp);
  };
  int stage = 0;
  for (const std::string& f : {s.shifted, s.drifting, s.facilities.size() > 3 ? s.facilities[3] : ""}) {
    if (f.empty()) continue;
    const std::string id = absl::StrCat("sim-", f);
    std::vector<std::pair<std::string, v1::NcrCommand>> steps;
    v1::NcrCommand c;
    auto* raise = c.mutable_raise();
    raise->set_ncr_id(id);
    raise->set_characteristic(stage == 2 ? "finish" : "bore-dia");
    raise->set_quantity(40);
    raise->set_description(stage == 0 ? "bore oversize after tool change"
                                      : stage == 1 ? "bore drifting within the shift"
                                                   : "surface scratches above plan");
    steps.push_back({"raise", c});
    c.Clear();
    c.mutable_disposition()->set_ncr_id(id);
    c.mutable_disposition()->set_disposition(stage == 2 ? v1::USE_AS_IS : v1::REWORK);
    c.mutable_disposition()->set_reason("inside customer deviation" );
    steps.push_back({"disposition", c});
    c.Clear();
    c.mutable_root_cause()->set_ncr_id(id);
    c.mutable_root_cause()->set_cause(stage == 0 ? "boring bar offset not reset" : "spindle warm-up");
    steps.push_back({"cause", c});
    c.Clear();
    auto* a = c.mutable_add_action();
    a->set_ncr_id(id);
    a->set_action_id("ca-1");
    a->set_kind(v1::CORRECTIVE);
    a->set_owner("process-eng");
    a->set_due(due);
    a->set_description("offset check in the tool-change routine");
    steps.push_back({"action", c});
    if (stage == 0) {
      c.Clear();
      c.mutable_complete_action()->set_ncr_id(id);
      c.mutable_complete_action()->set_action_id("ca-1");
      steps.push_back({"complete", c});
      c.Clear();
      c.mutable_check()->set_ncr_id(id);
      c.mutable_check()->set_effective(true);
      c.mutable_check()->set_note("25 subgroups in control after the change");
      steps.push_back({"check", c});
      c.Clear();
      c.mutable_close()->set_ncr_id(id);
      c.mutable_close()->set_reason("effective");
      steps.push_back({"close", c});
    }
    for (auto& [key, command] : steps) {
      grpc::Status st = ncr(f, key, command);
      if (!st.ok()) return cli::Fail(err, absl::StrCat("quality simulate: NCR ", key, " in ", f), st);
    }
    ++stage;
  }

  // Wait for the rollups to catch up, then the director's quality section.
  auto rollups = rollups::v1::RollupService::NewStub(rollups_channel);
  const std::string from = absl::FormatCivilTime(o.start);
  const std::string to = absl::FormatCivilTime(o.start + (o.days - 1));
  rollups::v1::QueryKpisResponse enterprise;
  for (int i = 0; i < 300; ++i) {
    rollups::v1::QueryKpisRequest q;
    q.set_scope("enterprise");
    for (const char* k : {"quality_fpy", "quality_dpmo", "spc_violations", "capa_on_time_rate"}) {
      q.add_kpis(k);
    }
    q.set_from(from);
    q.set_to(absl::FormatCivilTime(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone())));
    grpc::ClientContext ctx;
    grpc::Status st = rollups->QueryKpis(&ctx, q, &enterprise);
    if (!st.ok()) return cli::Fail(err, "quality simulate: rollups", st);
    if (enterprise.lag_events() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  out << absl::StrFormat("quality: %d subgroups and inspections recorded (%d resent), %d rule violations\n",
                         accepted, duplicates, violations);
  struct Row {
    std::string facility;
    double cpk = 0;
    int violations = 0;
  };
  std::vector<Row> rows;
  for (const std::string& f : s.facilities) {
    Row row{f, 0, 0};
    v1::CapabilityRequest cr;
    cr.set_characteristic("bore-dia");
    cr.set_scope(absl::StrCat("facilities/", f));
    cr.set_from(from);
    cr.set_to(to);
    grpc::ClientContext ctx;
    v1::Capability cap;
    grpc::Status st = stub->GetCapability(&ctx, cr, &cap);
    if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      row.cpk = std::nan("");  // the quality process runs without the rollups
    } else if (!st.ok()) {
      return cli::Fail(err, absl::StrCat("quality simulate: capability of ", f), st);
    } else {
      row.cpk = cap.cpk();
    }
    v1::ChartRequest chart;
    chart.set_facility(f);
    chart.set_characteristic("bore-dia");
    grpc::ClientContext cctx;
    v1::ChartResponse c;
    st = stub->GetChart(&cctx, chart, &c);
    if (!st.ok()) return cli::Fail(err, absl::StrCat("quality simulate: chart of ", f), st);
    row.violations = c.violations_size();
    rows.push_back(row);
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.cpk < b.cpk; });
  out << "Bore diameter by plant, worst Cpk first (capability from the rollups' moments):\n";
  for (const Row& r : rows) {
    out << (std::isnan(r.cpk)
                ? absl::StrFormat("  %-14s Cpk   -    %3d rule violations (capability needs the rollups "
                                  "in the quality process)\n", r.facility, r.violations)
                : absl::StrFormat("  %-14s Cpk %5.2f  %3d rule violations\n", r.facility, r.cpk,
                                  r.violations));
  }
  {
    v1::CapabilityRequest cr;
    cr.set_characteristic("bore-dia");
    cr.set_scope("enterprise");
    cr.set_from(from);
    cr.set_to(to);
    grpc::ClientContext ctx;
    v1::Capability cap;
    if (stub->GetCapability(&ctx, cr, &cap).ok()) {
      out << absl::StrFormat("  enterprise     Cpk %5.2f  Ppk %5.2f over %d values pooled (not an average of plants)\n",
                             cap.cpk(), cap.ppk(), cap.n());
    }
  }
  out << "Open NCRs by age:\n";
  const absl::Time now = absl::Now();
  for (const std::string& f : s.facilities) {
    v1::ListNcrsRequest lr;
    lr.set_facility(f);
    lr.set_open_only(true);
    grpc::ClientContext ctx;
    v1::ListNcrsResponse list;
    if (!stub->ListNcrs(&ctx, lr, &list).ok()) continue;
    for (const auto& n : list.ncrs()) {
      out << absl::StrFormat("  %-14s %-22s %5.1f h  %d of %d actions open  %s\n", f, n.ncr_id(),
                             absl::ToDoubleHours(now - ToTime(n.raised())), n.actions_open(), n.actions(),
                             n.description());
    }
  }
  for (const auto& k : enterprise.total().kpis()) {
    if (k.kpi() == "capa_on_time_rate") {
      out << (k.has_value() ? absl::StrFormat("CAPA actions closed on time: %.0f%%\n", k.value())
                            : std::string("CAPA actions closed on time: none closed yet\n"));
    }
    if (k.kpi() == "quality_fpy" && k.has_value()) {
      out << absl::StrFormat("First pass yield (finish inspections): %.2f%%\n", k.value());
    }
  }
  return 0;
}

}  // namespace takt::quality
