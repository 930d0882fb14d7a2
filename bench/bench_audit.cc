#include "bench/bench_audit.h"

#include "services/registry.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "services/audit/history.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/embedded_log.h"
#include "takt/scheduling/v1/events.pb.h"

namespace takt::cli {

absl::StatusOr<std::vector<BenchResult>> RunAuditBenchmark(const BenchAuditOptions& o) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("takt-bench-audit-" + NewUuid())).string();
  std::vector<BenchResult> results;
  {
    eventlog::EmbeddedLogOptions lo;
    lo.data_dir = dir;
    TAKT_ASSIGN_OR_RETURN(auto log, eventlog::OpenEmbeddedLog(lo));
    // Production counts, 100 per append, as gateways send them.
    std::vector<eventlog::StreamId> streams;
    for (int f = 0; f < o.facilities; ++f) {
      const std::string facility = absl::StrCat("plant-", f);
      streams.push_back({"scheduling", facility});
      for (int i = 0; i < o.events_per_facility; i += 100) {
        eventlog::AppendRequest r;
        r.context = "scheduling";
        r.facility = facility;
        for (int k = i; k < std::min(o.events_per_facility, i + 100); ++k) {
          scheduling::v1::ProductionCounted c;
          c.set_work_unit(absl::StrCat("line-", k % 4, "-m", k % 3));
          c.set_product("door");
          c.set_good(100 + k % 7);
          c.set_scrap(k % 3);
          c.set_planned_run_time_per_item_us(40'000'000);
          eventlog::Envelope e;
          e.set_event_type("takt.scheduling.v1.ProductionCounted");
          e.set_schema_version(1);
          e.set_actor("gateway:bench");
          *e.mutable_occurred_time() = ToProto(absl::FromUnixSeconds(1'790'000'000 + 30 * k));
          e.set_source_id("gw");
          e.set_source_sequence(static_cast<uint64_t>(k) + 1);
          e.set_payload(c.SerializeAsString());
          r.events.push_back(std::move(e));
        }
        TAKT_RETURN_IF_ERROR(log->Append(std::move(r)).status());
      }
    }
    TAKT_RETURN_IF_ERROR(log->CheckpointAll());
    for (int threads : {1, 2}) {
      const absl::Time t0 = absl::Now();
      TAKT_ASSIGN_OR_RETURN(auto r, audit::VerifiedReplay(*log, streams, threads));
      const double s = absl::ToDoubleSeconds(absl::Now() - t0);
      if (!r.report.ok()) return absl::InternalError(r.report.ToText());
      results.push_back({absl::StrCat("audit_replay_verified_threads", threads), r.events / s, 0, 0,
                         0, r.events, s});
    }
    // Export (readable JSON with proofs) of one facility, and its offline check.
    audit::v1::ReplayRequest req;
    req.set_facility("plant-0");
    req.add_contexts("scheduling");
    req.set_with_proofs(true);
    std::string jsonl;
    absl::Time t0 = absl::Now();
    TAKT_ASSIGN_OR_RETURN(uint64_t n, audit::Replay(*log, services::Contexts(), req, [&](const audit::v1::ReplayItem& item) {
                            jsonl += audit::ToJsonLine(item);
                            jsonl += '\n';
                          }));
    double s = absl::ToDoubleSeconds(absl::Now() - t0);
    results.push_back({"audit_export_jsonl", n / s, 0, 0, 0, n, s});
    t0 = absl::Now();
    TAKT_ASSIGN_OR_RETURN(auto report, audit::VerifyExport(jsonl, log->keys()));
    s = absl::ToDoubleSeconds(absl::Now() - t0);
    if (!report.ok()) return absl::InternalError(report.ToText());
    results.push_back({"audit_verify_export", report.events_checked / s, 0, 0, 0,
                       report.events_checked, s});
  }
  std::filesystem::remove_all(dir);
  return results;
}

}  // namespace takt::cli
