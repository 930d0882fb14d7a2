#include "bench/bench_quality.h"

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/kpi/family.h"
#include "libs/model/model_store.h"
#include "absl/synchronization/mutex.h"
#include "libs/host/host.h"
#include "services/enterprise/definitions.h"
#include "services/registry.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "takt/quality/v1/quality_service.grpc.pb.h"
#include "services/quality/families.h"
#include "services/quality/quality.h"
#include "services/rollups/family_projection.h"
#include "services/rollups/rollup_store.h"
#include "takt/enterprise/v1/enterprise_service.pb.h"

namespace takt::cli {

namespace ev1 = ::takt::enterprise::v1;
namespace qv1 = ::takt::quality::v1;

absl::StatusOr<std::vector<BenchResult>> RunQualityBenchmark(const BenchQualityOptions& o) {
  if (o.facilities < 1 || o.days < 2 || o.every_minutes < 1 || o.characteristics < 1 || o.queries < 1) {
    return absl::InvalidArgumentError("every option must be positive (days at least 2)");
  }
  for (auto& f : quality::Families()) {
    absl::Status s = kpi::RegisterFamily(std::move(f));
    if (!s.ok() && s.code() != absl::StatusCode::kAlreadyExists) return s;
  }
  const std::string dir = BenchTempDir("quality");
  std::vector<BenchResult> results;
  {
    eventlog::EmbeddedLogOptions lo;
    lo.data_dir = dir;
    TAKT_ASSIGN_OR_RETURN(auto log, eventlog::OpenEmbeddedLog(lo));
    model::ModelStore models(log.get());
    ev1::ApplyDefinitionsRequest apply;
    apply.set_request_id("bench-quality-setup");
    apply.add_definitions()->mutable_region()->set_region("emea");
    for (int f = 0; f < o.facilities; ++f) {
      const std::string id = absl::StrCat("plant-", f);
      auto* fd = apply.add_definitions()->mutable_facility();
      fd->set_facility(id);
      fd->mutable_calendar()->set_time_zone("Europe/Berlin");
      fd->mutable_calendar()->set_day_start("06:00");
      auto* mv = apply.add_definitions()->mutable_move();
      mv->set_facility(id);
      mv->set_region("emea");
      mv->set_effective_from("2000-01-01");
      auto* a = apply.add_definitions()->mutable_area();
      a->set_facility(id);
      a->set_area("a");
      auto* w = apply.add_definitions()->mutable_work_center();
      w->set_facility(id);
      w->set_area("a");
      w->set_work_center("wc");
      auto* u = apply.add_definitions()->mutable_work_unit();
      u->set_facility(id);
      u->set_work_center("wc");
      u->set_work_unit("cnc-1");
    }
    TAKT_RETURN_IF_ERROR(
        enterprise::Definitions(log.get(), &models).Apply(apply, {"bench", absl::Now()}).status());
    TAKT_RETURN_IF_ERROR(models.Refresh());
    TAKT_ASSIGN_OR_RETURN(auto store, rollup::RollupStore::Open(dir + "/rollups"));
    quality::Quality q(log.get(), &models, store.get());
    const absl::Time start = absl::FromCivil(absl::CivilDay(2026, 1, 5), absl::UTCTimeZone());
    const absl::Time now = start + absl::Hours(24 * (o.days + 1));
    std::vector<qv1::ApplyPlansRequest> plan_requests;
    for (int f = 0; f < o.facilities; ++f) {
      qv1::ApplyPlansRequest plans;
      plans.set_facility(absl::StrCat("plant-", f));
      auto* p = plans.add_plans();
      p->set_plan_id("housing-op20");
      p->set_product("housing");
      p->set_work_unit("cnc-1");
      p->set_effective_from("2026-01-01");
      for (int c = 0; c < o.characteristics; ++c) {
        auto* ch = p->add_characteristics();
        ch->set_id(absl::StrCat("dim-", c));
        ch->set_chart(qv1::XBAR_R);
        ch->set_nominal(10);
        ch->set_lower_spec(9.9);
        ch->set_upper_spec(10.1);
        ch->set_unit("mm");
        ch->set_subgroup_size(5);
        ch->set_resolution(0.0001);
        ch->add_extra_rules(5);
      }
      TAKT_RETURN_IF_ERROR(q.ApplyPlans(plans, {"bench", now}).status());
      plan_requests.push_back(plans);
    }
    // The samples: every facility's in time order, batches of at most 1000
    // subgroups, day by day (limits are approved after the first day).
    std::mt19937_64 rng(7);
    std::normal_distribution<double> noise(0.0, 0.01);
    const int per_day = 24 * 60 / o.every_minutes;
    uint64_t values = 0;
    struct Batch {
      int day;
      qv1::SampleBatch samples;
    };
    std::vector<std::vector<Batch>> batches(static_cast<size_t>(o.facilities));
    for (int f = 0; f < o.facilities; ++f) {
      const std::string facility = absl::StrCat("plant-", f);
      const double bias = 0.004 * f;  // plants differ: pooled != averaged
      uint64_t seq = 0;
      for (int d = 0; d < o.days; ++d) {
        for (int i = 0; i < per_day; ++i) {
          const absl::Time at = start + absl::Hours(24 * d) + absl::Minutes(i * o.every_minutes);
          for (int c = 0; c < o.characteristics; ++c) {
            auto& list = batches[static_cast<size_t>(f)];
            if (list.empty() || list.back().day != d || list.back().samples.samples_size() == 1000) {
              list.push_back({d, {}});
              list.back().samples.set_facility(facility);
            }
            qv1::Sample* s = list.back().samples.add_samples();
            s->set_source_id("cmm-1");
            s->set_source_sequence(++seq);
            *s->mutable_source_time() = ToProto(at);
            s->set_characteristic(absl::StrCat("dim-", c));
            s->mutable_measurement()->set_unit("mm");
            for (int k = 0; k < 5; ++k) s->mutable_measurement()->add_values(10 + bias + noise(rng));
            values += 5;
          }
        }
      }
    }
    auto limits_request = [&](int f, int c) {
      qv1::ApproveLimitsRequest r;
      r.set_facility(absl::StrCat("plant-", f));
      r.set_characteristic(absl::StrCat("dim-", c));
      *r.mutable_baseline_from() = ToProto(start);
      *r.mutable_baseline_to() = ToProto(start + absl::Hours(24));
      r.set_reason("bench baseline");
      return r;
    };
    // In-process: Quality::Ingest returns once the batch is durable.
    uint64_t subgroups = 0, violations = 0;
    absl::Duration busy;
    std::vector<double> ack_ms;
    for (int f = 0; f < o.facilities; ++f) {
      const auto& list = batches[static_cast<size_t>(f)];
      for (size_t b = 0; b < list.size(); ++b) {
        const absl::Time t0 = absl::Now();
        TAKT_ASSIGN_OR_RETURN(qv1::SampleAck ack, q.Ingest(list[b].samples, now, "bench"));
        const absl::Duration took = absl::Now() - t0;
        busy += took;
        ack_ms.push_back(absl::ToDoubleMilliseconds(took));
        if (ack.rejected_size() > 0) return absl::InternalError(ack.rejected(0).reason());
        subgroups += ack.accepted();
        violations += ack.violations();
        if (list[b].day == 0 && (b + 1 == list.size() || list[b + 1].day != 0)) {
          for (int c = 0; c < o.characteristics; ++c) {
            TAKT_RETURN_IF_ERROR(q.ApproveLimits(limits_request(f, c), {"bench", now}).status());
          }
        }
      }
    }
    BenchResult ingest;
    ingest.name = "quality_ingest_values";
    ingest.events = values;
    ingest.seconds = absl::ToDoubleSeconds(busy);
    ingest.events_per_second = static_cast<double>(values) / ingest.seconds;
    ingest.appends_per_second = static_cast<double>(subgroups) / ingest.seconds;
    ingest.p50_ms = Percentile(ack_ms, 0.5);
    ingest.p99_ms = Percentile(ack_ms, 0.99);
    results.push_back(ingest);
    BenchResult fired;  // how many signals the evaluation recorded (a count)
    fired.name = "quality_rule_violations";
    fired.events = violations;
    fired.seconds = ingest.seconds;
    results.push_back(fired);

    // Through gRPC: a server on its own data directory, one sample stream
    // per plant (as its gateway would), acknowledgements awaited batch by
    // batch; wall time from the first batch sent to the last acknowledged.
    {
      host::ServerOptions opts;
      opts.security.insecure = true;  // a loopback benchmark
      opts.data_dir = dir + "/grpc";
      opts.listen = "127.0.0.1:0";
      TAKT_ASSIGN_OR_RETURN(auto server, services::StartServer(opts));
      auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server->port()),
                                         grpc::InsecureChannelCredentials());
      {
        grpc::ClientContext ctx;
        ev1::ApplyDefinitionsResponse resp;
        grpc::Status st = ev1::EnterpriseService::NewStub(channel)->ApplyDefinitions(&ctx, apply, &resp);
        if (!st.ok()) return absl::InternalError(st.error_message());
      }
      auto stub = qv1::QualityService::NewStub(channel);
      for (const auto& plans : plan_requests) {
        grpc::ClientContext ctx;
        qv1::ApplyPlansResponse resp;
        grpc::Status st = stub->ApplyPlans(&ctx, plans, &resp);
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
          auto stream = stub->StreamSamples(&ctx);
          const auto& list = batches[static_cast<size_t>(f)];
          for (size_t b = 0; b < list.size(); ++b) {
            const absl::Time sent = absl::Now();
            qv1::SampleAck ack;
            if (!stream->Write(list[b].samples) || !stream->Read(&ack)) break;
            {
              absl::MutexLock lock(&ms_mu);
              grpc_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - sent));
            }
            if (ack.rejected_size() > 0) errors[static_cast<size_t>(f)] = ack.rejected(0).reason();
            if (list[b].day == 0 && (b + 1 == list.size() || list[b + 1].day != 0)) {
              for (int c = 0; c < o.characteristics; ++c) {
                grpc::ClientContext lctx;
                qv1::LimitsApproved l;
                grpc::Status st = stub->ApproveLimits(&lctx, limits_request(f, c), &l);
                if (!st.ok()) errors[static_cast<size_t>(f)] = st.error_message();
              }
            }
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
        if (!e.empty()) return absl::InternalError(absl::StrCat("gRPC ingest: ", e));
      }
      BenchResult g;
      g.name = "quality_ingest_values_grpc";
      g.events = values;
      g.seconds = seconds;
      g.events_per_second = static_cast<double>(values) / seconds;
      g.appends_per_second = static_cast<double>(subgroups) / seconds;
      g.p50_ms = Percentile(grpc_ms, 0.5);
      g.p99_ms = Percentile(grpc_ms, 0.99);
      results.push_back(g);
    }

    // The capability family, projected from the log.
    const kpi::FamilyRegistration* family = kpi::FindFamily(quality::kCapabilityFamily);
    rollup::FamilyProjection projection(log.get(), store.get(), family,
                                        [&](const std::string& f) { return models.Calendar(f); });
    TAKT_RETURN_IF_ERROR(projection.Start());
    const absl::Time p0 = absl::Now();
    uint64_t projected = 0;
    for (;;) {
      TAKT_ASSIGN_OR_RETURN(size_t n, projection.Step(absl::Milliseconds(50)));
      if (n == 0) break;
      projected += n;
    }
    BenchResult proj;
    proj.name = "quality_capability_projection";
    proj.events = projected;
    proj.seconds = absl::ToDoubleSeconds(absl::Now() - p0);
    proj.events_per_second = static_cast<double>(projected) / proj.seconds;
    results.push_back(proj);
    TAKT_RETURN_IF_ERROR(store->Compact());

    // Queries: a 90-day chart of one characteristic; a quarter's capability
    // of one characteristic over the region.
    std::mt19937 pick(3);
    std::vector<double> chart_ms, cap_ms;
    size_t points = 0;
    for (int i = 0; i < o.queries; ++i) {
      qv1::ChartRequest cr;
      cr.set_facility(absl::StrCat("plant-", pick() % static_cast<unsigned>(o.facilities)));
      cr.set_characteristic(absl::StrCat("dim-", pick() % static_cast<unsigned>(o.characteristics)));
      *cr.mutable_from() = ToProto(start);
      *cr.mutable_to() = ToProto(start + absl::Hours(24 * o.days));
      const absl::Time t0 = absl::Now();
      TAKT_ASSIGN_OR_RETURN(qv1::ChartResponse chart, q.Chart(cr));
      chart_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      points = static_cast<size_t>(chart.points_size());
    }
    BenchResult chart;
    chart.name = absl::StrCat("quality_chart_", o.days, "d_", points, "_points");
    chart.events = static_cast<uint64_t>(o.queries);
    chart.p50_ms = Percentile(chart_ms, 0.5);
    chart.p99_ms = Percentile(chart_ms, 0.99);
    results.push_back(chart);
    for (int i = 0; i < o.queries; ++i) {
      qv1::CapabilityRequest cr;
      cr.set_characteristic(absl::StrCat("dim-", pick() % static_cast<unsigned>(o.characteristics)));
      cr.set_scope("regions/emea");
      cr.set_from("2026-01-05");
      cr.set_to(absl::FormatCivilTime(absl::CivilDay(2026, 1, 5) + (o.days - 1)));
      const absl::Time t0 = absl::Now();
      TAKT_ASSIGN_OR_RETURN(qv1::Capability cap, q.GetCapability(cr));
      cap_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      if (cap.facilities_size() != o.facilities) {
        return absl::InternalError("capability did not pool every facility");
      }
    }
    BenchResult cap;
    cap.name = absl::StrCat("quality_capability_region_", o.facilities, "_plants_", o.days, "d");
    cap.events = static_cast<uint64_t>(o.queries);
    cap.p50_ms = Percentile(cap_ms, 0.5);
    cap.p99_ms = Percentile(cap_ms, 0.99);
    results.push_back(cap);
  }
  std::filesystem::remove_all(dir);
  return results;
}

}  // namespace takt::cli
