#include "services/rollups/answer.h"

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/kpi/family.h"
#include "libs/kpi/registry.h"
#include "services/rollups/query.h"

namespace takt::rollup {
namespace {

namespace rv1 = ::takt::rollups::v1;

void FillRow(const QueryRow& row, rv1::Row* out) {
  out->set_label(row.label);
  for (const auto& k : row.kpis) {
    auto* v = out->add_kpis();
    v->set_kpi(k.id);
    v->set_has_value(k.value.has_value());
    v->set_value(k.value.value_or(0));
    v->set_unit(kpi::FindKpi(k.id)->unit);
  }
  for (int e = 0; e < kpi::kElementCount; ++e) {
    auto* el = out->add_elements();
    el->set_name(std::string(kpi::ElementName(static_cast<kpi::Element>(e))));
    el->set_value(row.sums.v[e]);
  }
  // Other families' elements as "<family>.<ELEMENT>".
  for (const auto& [family, values] : row.family_sums) {
    const kpi::FamilyRegistration* f = kpi::FindFamily(family);
    for (size_t e = 0; f != nullptr && e < values.size(); ++e) {
      auto* el = out->add_elements();
      el->set_name(absl::StrCat(family, ".", f->family.elements[e].name));
      el->set_value(values[e]);
    }
  }
}

absl::StatusOr<absl::CivilDay> Day(const std::string& field, const std::string& value) {
  auto day = model::ParseDay(value);
  if (!day.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", day.status().message()));
  return *day;
}

}  // namespace

absl::StatusOr<rv1::QueryKpisResponse> AnswerQuery(const RollupStore& store,
                                                   const model::ModelStore& models,
                                                   eventlog::EventLog& log,
                                                   const std::vector<ReadPosition>& reads,
                                                   const rv1::QueryKpisRequest& request) {
  QueryRequest q;
  TAKT_ASSIGN_OR_RETURN(q.scope, ParseScope(request.scope().empty() ? "enterprise" : request.scope()));
  for (const auto& k : request.kpis()) q.kpis.push_back(k);
  if (q.kpis.empty()) q.kpis = {"oee", "availability", "effectiveness", "quality_ratio"};
  TAKT_ASSIGN_OR_RETURN(q.from, Day("from", request.from()));
  TAKT_ASSIGN_OR_RETURN(q.to, Day("to", request.to()));
  TAKT_ASSIGN_OR_RETURN(q.by, ParseBreakdown(request.by()));
  // The cursors first: the answer reflects at least these positions.
  std::vector<std::pair<const ReadPosition*, eventlog::Cursor>> cursors;
  for (const ReadPosition& r : reads) {
    TAKT_ASSIGN_OR_RETURN(eventlog::Cursor cursor, store.LoadCursor(r.cursor_key));
    cursors.emplace_back(&r, std::move(cursor));
  }
  absl::StatusOr<QueryResult> result;
  absl::StatusOr<std::vector<ReasonRow>> pareto = std::vector<ReasonRow>{};
  models.Read([&](const model::EnterpriseModel& m) {
    result = RunQuery(store, m, q);
    if (request.downtime_pareto()) pareto = DowntimePareto(store, m, q.scope, q.from, q.to);
  });
  TAKT_RETURN_IF_ERROR(result.status());
  TAKT_RETURN_IF_ERROR(pareto.status());
  rv1::QueryKpisResponse response;
  int64_t total_micros = 0;
  for (const auto& r : *pareto) total_micros += r.micros;
  for (const auto& r : *pareto) {
    auto* d = response.add_downtime_pareto();
    d->set_reason(r.reason);
    d->set_hours(static_cast<double>(r.micros) / 3.6e9);
    d->set_stoppages(r.stoppages);
    d->set_share(total_micros > 0
                     ? 100.0 * static_cast<double>(r.micros) / static_cast<double>(total_micros)
                     : 0);
  }
  FillRow(result->total, response.mutable_total());
  for (const auto& row : result->rows) FillRow(row, response.add_rows());
  // Every partition of every context read, with where the projection
  // stands in it (0: nothing read there yet), so that answers list the
  // same partitions whatever the projection has met so far.
  uint64_t lag = 0;
  for (auto& [read, cursor] : cursors) {
    eventlog::Cursor positions = cursor;
    if (auto end = log.EndCursor(read->context); end.ok()) {
      for (const auto& [partition, offset] : *end) positions.emplace(partition, 0);
      lag += eventlog::Lag(cursor, *end);
    }
    for (const auto& [partition, next] : positions) {
      auto* p = response.add_positions();
      p->set_context(read->cursor_key);
      p->set_partition(partition);
      p->set_next_offset(next);
    }
  }
  response.set_lag_events(lag);
  return response;
}

}  // namespace takt::rollup
