#include "services/rollups/module.h"

#include <pthread.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/host/host.h"
#include "libs/metrics/metrics.h"
#include "libs/model/model_store.h"
#include "services/rollups/answer.h"
#include "services/rollups/cli.h"
#include "services/rollups/family_projection.h"
#include "services/rollups/grpc_service.h"
#include "services/rollups/contribution.h"
#include "services/rollups/rollup_store.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"

namespace takt::rollup {
namespace {


class RollupsModule final : public host::Module {
 public:
  absl::Status Start(host::Env& env) override {
    env_ = &env;
    const std::string dir = env.options().data_dir + "/rollups";
    TAKT_ASSIGN_OR_RETURN(store_, RollupStore::Open(dir));
    // A projection ahead of its log (the log restored from an older
    // backup) would silently skip what is appended next: rebuild it.
    // The production elements (ISO 22400) by the projection their context
    // contributes (contribution.h); every other family by its fold.
    const ProductionFold* production = FindProductionFold(env.registry());
    if (production == nullptr) {
      return absl::FailedPreconditionError(
          "no registered module contributes the production elements (a rollup::ProductionFold)");
    }
    reads_ = {{production->context, production->context}};
    for (const kpi::FamilyRegistration* f : kpi::Families()) {
      reads_.push_back({f->context, FamilyProjection::CursorKey(*f)});
    }
    for (const ReadPosition& read : reads_) {
      TAKT_ASSIGN_OR_RETURN(eventlog::Cursor stored, store_->LoadCursor(read.cursor_key));
      TAKT_ASSIGN_OR_RETURN(eventlog::Cursor end, env.log()->EndCursor(read.context));
      if (auto why = CursorBeyondEnd(stored, end)) {
        log::Warn(absl::StrCat("rollups: the projection is ahead of the log in ", read.context, " (",
                               *why, "); the log was restored from an older backup or replaced: "
                               "rebuilding the rollups from the log"));
        store_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        if (ec) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the rollups at ", dir, " are ahead of the log and cannot be removed: ", ec.message()));
        }
        TAKT_ASSIGN_OR_RETURN(store_, RollupStore::Open(dir));
        break;
      }
    }
    model::ModelStore* models = env.models();
    CalendarChanges calendar_changes = [models] {
      std::vector<std::pair<std::string, absl::Time>> out;
      models->Read([&](const model::EnterpriseModel& m) {
        for (const std::string& f : m.Facilities()) {
          const kpi::FacilityCalendar* cal = m.Calendar(f);
          if (cal != nullptr && cal->LatestChange() != absl::InfinitePast()) {
            out.emplace_back(f, cal->LatestChange());
          }
        }
      });
      return out;
    };
    ZoneMissing zone_missing = [models](const std::string& facility) {
      bool missing = false;
      models->Read([&](const model::EnterpriseModel& m) {
        const model::FacilityInfo* f = m.Facility(facility);
        missing = f != nullptr && f->calendar == nullptr;
      });
      return missing;
    };
    projection_ = production->projection(
        env.log(), store_.get(),
        [models](const std::string& facility) { return models->Calendar(facility); },
        std::move(calendar_changes), zone_missing);
    TAKT_RETURN_IF_ERROR(projection_->Start());
    for (const kpi::FamilyRegistration* f : kpi::Families()) {
      families_.push_back(std::make_unique<FamilyProjection>(
          env.log(), store_.get(), f,
          [models](const std::string& facility) { return models->Calendar(facility); }, 20000, zone_missing));
      TAKT_RETURN_IF_ERROR(families_.back()->Start());
    }
    service_ = NewRollupService(env.log(), models, store_.get(), reads_, env.options().record_reads.kpis);
    env.Provide<RollupStore>(store_.get());
    return absl::OkStatus();
  }

  std::vector<host::ServiceEntry> Services() override {
    // Not ready until the projection has caught up (see ProjectLoop).
    host::ServiceEntry entry{service_.get(), std::string(kService), /*serving_at_start=*/false};
    // GET /v1/enterprise:queryKpis, /v1/regions/R:queryKpis,
    // /v1/facilities/F[/areas/A|/workCenters/W|/workUnits/U]:queryKpis.
    entry.http = host::ScopeRoutes(":queryKpis", "QueryKpis");
    return {std::move(entry)};
  }

  void Run(host::Env& env, host::Health& health) override {
    projector_ = std::thread([this, &env, &health] {
      pthread_setname_np(pthread_self(), "takt-project");
      ProjectLoop(env, health);
    });
    metrics_ = metrics::AddSource([this](metrics::Families& out) { AddMetrics(out); });
  }

  void Stop() override {
    metrics_ = metrics::Registration();
    stopped_ = true;
    if (projector_.joinable()) projector_.join();
  }

  absl::Status WaitCaughtUp(absl::Duration timeout) override {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      uint64_t lag = 0;
      for (const ReadPosition& read : reads_) {
        auto end = env_->log()->EndCursor(read.context);
        auto cursor = store_->LoadCursor(read.cursor_key);
        if (!end.ok() || !cursor.ok()) return absl::InternalError("cannot read positions");
        lag += eventlog::Lag(*cursor, *end);
      }
      if (lag == 0) return absl::OkStatus();
      absl::SleepFor(absl::Milliseconds(10));
    }
    return absl::DeadlineExceededError("projection did not catch up");
  }

  ~RollupsModule() override { Stop(); }

 private:
  // Applies the log to the rollups. An event it cannot apply is said once
  // (log line; gRPC health NOT_SERVING; answers keep coming, with the lag
  // they have), then retried: typically an event for a facility the model
  // does not know yet, which a refresh resolves.
  //
  // The service's gRPC health is its readiness: SERVING while the
  // projection applies the log, the log answers, and the projection is at
  // most kReadyLagEvents behind (after a restart it is NOT_SERVING until it
  // has caught up that far).
  void ProjectLoop(host::Env& env, host::Health& health) {
    std::string failing;  // the error being reported, empty when healthy
    bool serving = false;  // as registered: not ready until checked
    absl::Time checked = absl::InfinitePast();
    uint64_t lag = 0;
    std::string log_error;
    while (!stopped_) {
      // Production, then each family: every one with its own cursor.
      std::string error;
      absl::StatusCode code = absl::StatusCode::kOk;
      auto n = projection_->Step(absl::Milliseconds(families_.empty() ? 100 : 50));
      if (!n.ok()) {
        code = n.status().code();
        error = std::string(n.status().message());
        absl::SleepFor(absl::Milliseconds(200));
        (void)env.models()->Refresh();
        absl::Status restarted = projection_->Start();
        if (!restarted.ok()) error = absl::StrCat(error, "; restart: ", restarted.message());
      }
      for (auto& family : families_) {
        auto m = family->Step(absl::Milliseconds(10));
        if (!m.ok() && error.empty()) {
          code = m.status().code();
          error = std::string(m.status().message());
          absl::SleepFor(absl::Milliseconds(200));
          (void)env.models()->Refresh();
        }
      }
      if (error.empty() && !failing.empty()) {
        log::Info("rollups: the projection applies events again");
        failing.clear();
      } else if (!error.empty() && error != failing) {
        log::Error(absl::StrCat("rollups: the projection cannot apply the log (",
                                absl::StatusCodeToString(code), ": ", error,
                                "); answers show the lag; retrying"));
        failing = error;
      }
      if (absl::Now() - checked >= absl::Seconds(1)) {
        checked = absl::Now();
        log_error.clear();
        lag = 0;
        // The log's ends first (on Kafka a round trip each), then the
        // figures under the lock a scrape takes.
        std::vector<std::optional<eventlog::Cursor>> ends(reads_.size());
        for (size_t i = 0; i < reads_.size(); ++i) {
          auto end = env.log()->EndCursor(reads_[i].context);
          if (!end.ok()) {
            log_error = std::string(end.status().message());
            continue;
          }
          ends[i] = *std::move(end);
        }
        absl::MutexLock lock(&lag_mu_);
        for (size_t i = 0; i < reads_.size(); ++i) {
          if (!ends[i]) continue;
          const eventlog::Cursor& at = i == 0 ? projection_->cursor() : families_[i - 1]->cursor();
          const uint64_t behind = eventlog::Lag(at, *ends[i]);
          lag += behind;
          Lagging& l = lags_[reads_[i].cursor_key];
          // Behind since the last check whose end it has passed: under a
          // steady stream it is always a few events behind, but never for
          // long. (Lag(at, end) is 0 once `at` has reached `end`.)
          if (behind == 0 || !l.seen) {
            l.since = checked;
          } else if (eventlog::Lag(at, l.end) == 0) {
            l.since = l.checked;
          }
          l.context = reads_[i].context;
          l.events = behind;
          l.end = *ends[i];
          l.checked = checked;
          l.seen = true;
        }
      }
      const bool ready = failing.empty() && log_error.empty() && lag <= kReadyLagEvents;
      if (ready != serving) {
        serving = ready;
        health.SetServing(kService, ready);
        if (ready) {
          log::Info("rollups: SERVING");
        } else {
          log::Warn(absl::StrCat("rollups: NOT_SERVING (",
                                 !failing.empty()     ? "the projection is stopped"
                                 : !log_error.empty() ? "the log does not answer: " + log_error
                                                      : absl::StrCat(lag, " events behind"),
                                 ")"));
        }
      }
    }
  }

  // Projection lag per read (checked each second by ProjectLoop) and the
  // store's RocksDB health.
  void AddMetrics(metrics::Families& out) {
    const absl::Time now = absl::Now();
    {
      absl::MutexLock lock(&lag_mu_);
      for (const auto& [key, l] : lags_) {
        const metrics::Labels labels = {{"context", l.context}, {"projection", key}};
        out.Gauge("takt_projection_lag_events", "Events of the log the rollups projection has not applied yet.",
                  labels, static_cast<double>(l.events));
        out.Gauge("takt_projection_lag_seconds",
                  "How long the rollups projection has been behind the log (0 when caught up).", labels,
                  l.events == 0 ? 0.0 : absl::ToDoubleSeconds(now - l.since));
      }
    }
    metrics::AddStorageHealth(store_->Health(), "rollups", out);
  }

  struct Lagging {
    std::string context;
    uint64_t events = 0;
    absl::Time since;    // the oldest unapplied event was appended after this
    eventlog::Cursor end;  // the log's end at the last check
    absl::Time checked;    // when
    bool seen = false;
  };

  static constexpr char kService[] = "takt.rollups.v1.RollupService";
  static constexpr uint64_t kReadyLagEvents = 250'000;

  host::Env* env_ = nullptr;
  std::unique_ptr<RollupStore> store_;
  std::unique_ptr<ContextProjection> projection_;  // production: reads_[0]
  std::vector<std::unique_ptr<FamilyProjection>> families_;  // reads_[1..]
  std::vector<ReadPosition> reads_;
  std::unique_ptr<grpc::Service> service_;
  std::thread projector_;
  std::atomic<bool> stopped_{false};
  absl::Mutex lag_mu_;
  std::map<std::string, Lagging> lags_ ABSL_GUARDED_BY(lag_mu_);  // by cursor key
  metrics::Registration metrics_;  // reads store_ and lags_: reset in Stop()
};

}  // namespace

host::ModuleInfo Module() {
  host::ModuleInfo m;
  m.name = "rollups";
  m.reads_all = true;  // production's context and every family's
  // Recorded KPI queries (takt serve --record-reads kpis), a facility's stream each.
  m.owns = {{kKpiReadsContext}};
  m.writes = [](const host::ServerOptions& o) { return o.record_reads.kpis; };
  m.payload_files = {rollups::v1::KpisRead::descriptor()->file()};
  m.create = [] { return std::make_unique<RollupsModule>(); };
  m.add_commands = cli::AddRollupsCommands;
  return m;
}

}  // namespace takt::rollup
