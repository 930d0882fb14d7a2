#include "services/audit/explain.h"

#include "libs/kpi/family.h"
#include "services/rollups/family_projection.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/record.h"
#include "libs/eventlog/verifier.h"
#include "libs/kpi/registry.h"
#include "services/rollups/query.h"

namespace takt::audit {

namespace {

// What a scope covers: a facility, production days, and which units (none
// listed: the whole facility, with its work orders).
struct ExplainPiece {
  std::string facility;
  absl::CivilDay from, to;
  std::optional<std::set<std::string>> units;
};

// A family's KPI recomputed from its context's raw events: each event read
// with its chain checked and run through the context's fold on its own,
// outside the projection's store, merges, cursor and batches.
absl::StatusOr<v1::ExplainResponse> ExplainFamily(
    eventlog::EventLog& log, const model::EnterpriseModel& model,
    const std::vector<es::ContextDescriptor>& contexts,
    const kpi::FamilyRegistration& family, const kpi::KpiDef& def,
    const std::vector<ExplainPiece>& pieces, const std::function<uint64_t(const std::string&)>& last_of,
    const rollup::QueryResult& projected) {
  v1::ExplainResponse out;
  const size_t width = family.family.elements.size();
  kpi::Values total(width, 0);
  uint64_t read = 0, used = 0;
  std::unique_ptr<kpi::Fold> fold = family.explain_fold ? family.explain_fold() : family.fold();
  const rollup::CalendarLookup calendars = [&](const std::string& f) { return model.Calendar(f); };
  for (const ExplainPiece& p : pieces) {
    TAKT_ASSIGN_OR_RETURN(const kpi::FacilityCalendar* cal, model.CalendarOrError(p.facility));
    const absl::Time from = cal->Day(p.from).start, to = cal->Day(p.to).end;
    // Every stream of the facility in the family's context (quality's
    // F.qms, staffing's F.staff hold events the folds count too).
    std::vector<std::string> streams = {p.facility};
    for (const es::ContextDescriptor& c : contexts) {
      if (c.name == family.context) streams = c.facility_streams(p.facility);
    }
    for (const std::string& stream : streams) {
      const uint64_t upto = last_of(stream);
      absl::Status folded;
      TAKT_RETURN_IF_ERROR(eventlog::ReadVerified(log, {family.context, stream}, upto,
                                    [&](const eventlog::v1::Envelope& e) {
        if (!folded.ok()) return;
        ++read;
        std::vector<rollup::FamilyHourDelta> deltas;
        folded = rollup::FoldIntoHours(family, *fold, {eventlog::LoggedEvent{e, {}}}, calendars, deltas);
        bool counted = false;
        for (const rollup::FamilyHourDelta& d : deltas) {
          if (d.facility != p.facility) continue;  // credited elsewhere
          if (d.hour < from || d.hour >= to) continue;
          if (p.units && p.units->count(d.unit) == 0) continue;
          kpi::AddInto(total, d.values);
          counted = true;
        }
        if (counted) ++used;
      }));
      TAKT_RETURN_IF_ERROR(folded);
      (*out.mutable_positions())[absl::StrCat(family.context, "/", stream)] = upto;
    }
  }
  out.set_kpi(def.id);
  out.set_formula(def.formula);
  const auto value = kpi::Evaluate(def, total);
  out.set_has_value(value.has_value());
  out.set_recomputed_value(value.value_or(0));
  const auto& pv = projected.total.kpis.front().value;
  out.set_projection_has_value(pv.has_value());
  out.set_projection_value(pv.value_or(0));
  auto it = projected.total.family_sums.find(family.family.name);
  const kpi::Values none(width, 0);
  const kpi::Values& projected_values = it == projected.total.family_sums.end() ? none : it->second;
  bool equal = true;
  for (size_t i = 0; i < width; ++i) {
    auto* el = out.add_elements();
    el->set_name(absl::StrCat(family.family.name, ".", family.family.elements[i].name));
    el->set_recomputed(total[i]);
    el->set_projection(i < projected_values.size() ? projected_values[i] : 0);
    equal = equal && el->recomputed() == el->projection();
  }
  out.set_equal(equal);
  out.set_events_read(read);
  out.set_events_used(used);
  return out;
}

}  // namespace

absl::StatusOr<v1::ExplainResponse> Explain(eventlog::EventLog& log, bool embedded_log,
                                            const model::EnterpriseModel& model,
                                            const rollup::RollupStore& store,
                                            const rollup::ProductionFold* production,
                                            const std::vector<es::ContextDescriptor>& contexts,
                                            const v1::ExplainRequest& request) {
  if (!embedded_log) {
    return absl::UnimplementedError(
        "explain needs the embedded log: on Kafka the projection's positions are partition "
        "offsets, not stream sequences");
  }
  TAKT_ASSIGN_OR_RETURN(rollup::Scope scope, rollup::ParseScope(request.scope()));
  const kpi::KpiDef* def = kpi::FindKpi(request.kpi());
  if (def == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown KPI '", request.kpi(), "'"));
  TAKT_ASSIGN_OR_RETURN(absl::CivilDay from, model::ParseDay(request.from()));
  TAKT_ASSIGN_OR_RETURN(absl::CivilDay to, model::ParseDay(request.to()));
  rollup::QueryRequest q;
  q.scope = scope;
  q.kpis = {def->id};
  q.from = from;
  q.to = to;
  // The projection's answer and the positions it reflects, read consistently
  // (the cursor is written in the same batch as the sums). RunQuery also
  // validates the scope and period.
  // A family's KPI is explained from its context's events and its own
  // position; production's by the recomputation its context contributes.
  const kpi::FamilyRegistration* family =
      def->family == kpi::kProductionFamily ? nullptr : kpi::FindFamily(def->family);
  if (def->family != kpi::kProductionFamily && family == nullptr) {
    return absl::InternalError(absl::StrCat("kpi '", def->id, "': family '", def->family, "' is not registered"));
  }
  if (family == nullptr && production == nullptr) {
    return absl::FailedPreconditionError("no registered module contributes the production elements");
  }
  const std::string cursor_key =
      family == nullptr ? production->context : rollup::FamilyProjection::CursorKey(*family);
  rollup::Cursor cursor;
  absl::StatusOr<rollup::QueryResult> projected;
  for (int attempt = 0;; ++attempt) {
    TAKT_ASSIGN_OR_RETURN(rollup::Cursor before, store.LoadCursor(cursor_key));
    projected = rollup::RunQuery(store, model, q);
    TAKT_ASSIGN_OR_RETURN(cursor, store.LoadCursor(cursor_key));
    if (cursor == before) break;
    if (attempt == 50) return absl::UnavailableError("the projection kept moving; try again");
  }
  if (!projected.ok()) return projected.status();

  // What the scope covers (the rollups' resolution), with a facility's
  // adjacent stretches joined: each facility's streams are read once.
  TAKT_ASSIGN_OR_RETURN(std::vector<rollup::ScopePart> parts,
                        rollup::ResolveScope(model, scope, from, to));
  // Facility by facility, in day order (regions list them region by region).
  std::stable_sort(parts.begin(), parts.end(), [](const rollup::ScopePart& a, const rollup::ScopePart& b) {
    return std::tie(a.facility, a.from) < std::tie(b.facility, b.from);
  });
  std::vector<ExplainPiece> pieces;
  for (const rollup::ScopePart& part : parts) {
    std::optional<std::set<std::string>> units;
    if (part.units) units.emplace(part.units->begin(), part.units->end());
    if (!pieces.empty() && pieces.back().facility == part.facility && pieces.back().units == units &&
        pieces.back().to + 1 == part.from) {
      pieces.back().to = part.to;
      continue;
    }
    pieces.push_back(ExplainPiece{part.facility, part.from, part.to, std::move(units)});
  }
  auto last_of = [&](const std::string& stream) -> uint64_t {
    auto it = cursor.find(stream);
    return it == cursor.end() || it->second == 0 ? 0 : it->second - 1;
  };
  if (family != nullptr) return ExplainFamily(log, model, contexts, *family, *def, pieces, last_of, *projected);
  v1::ExplainResponse out;
  rollup::Recomputed total;
  for (const ExplainPiece& p : pieces) {
    TAKT_ASSIGN_OR_RETURN(const kpi::FacilityCalendar* cal, model.CalendarOrError(p.facility));
    TAKT_ASSIGN_OR_RETURN(rollup::Recomputed r,
                          production->recompute(log, p.facility, p.units ? &*p.units : nullptr,
                                                cal->Day(p.from).start, cal->Day(p.to).end, cursor));
    total.sums += r.sums;
    total.events_read += r.events_read;
    total.events_used += r.events_used;
    for (const auto& [stream, seq] : r.positions) (*out.mutable_positions())[stream] = seq;
  }
  out.set_kpi(def->id);
  out.set_formula(def->formula);
  const auto value = kpi::Evaluate(*def, total.sums);
  out.set_has_value(value.has_value());
  out.set_recomputed_value(value.value_or(0));
  const auto& pv = projected->total.kpis.front().value;
  out.set_projection_has_value(pv.has_value());
  out.set_projection_value(pv.value_or(0));
  bool equal = true;
  for (int i = 0; i < kpi::kElementCount; ++i) {
    auto* el = out.add_elements();
    el->set_name(std::string(kpi::ElementName(static_cast<kpi::Element>(i))));
    el->set_recomputed(total.sums.v[i]);
    el->set_projection(projected->total.sums.v[i]);
    equal = equal && total.sums.v[i] == projected->total.sums.v[i];
  }
  out.set_equal(equal);
  out.set_events_read(total.events_read);
  out.set_events_used(total.events_used);
  return out;
}

}  // namespace takt::audit
