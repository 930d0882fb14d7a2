// File: query.h
// -----------------------------------------------------------------------------
// Director queries over the rollups: KPIs for a scope (enterprise, region,
// facility, area, work center, work unit) and a range of production days,
// in each facility's own time zone and calendar, optionally broken down by
// child scope or by hour, shift, day, week or month. Every value is a ratio
// of element sums at the scope asked for; a region counts a facility only
// on the days it belonged to the region.
#ifndef TAKT_SERVICES_ROLLUPS_QUERY_H_
#define TAKT_SERVICES_ROLLUPS_QUERY_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "libs/kpi/elements.h"
#include "libs/kpi/family.h"
#include "libs/model/enterprise_model.h"
#include "services/rollups/rollup_store.h"

namespace takt::rollup {

struct Scope {
  enum class Kind { kEnterprise, kRegion, kFacility, kArea, kWorkCenter, kWorkUnit };
  Kind kind = Kind::kEnterprise;
  std::string region, facility, area, work_center, work_unit;
  // The resource name: "enterprise", "regions/emea", "facilities/f1/workUnits/u1", ...
  std::string Name() const;
};

// Parses a resource name; INVALID_ARGUMENT naming what is wrong.
absl::StatusOr<Scope> ParseScope(std::string_view name);

enum class Breakdown { kNone, kChild, kHour, kShift, kDay, kWeek, kMonth };
absl::StatusOr<Breakdown> ParseBreakdown(std::string_view by);

// A stretch of production days of one facility: all of it (with its work
// orders; `units` empty) or some of its work units.
struct ScopePart {
  std::string facility;
  absl::CivilDay from, to;  // inclusive
  std::optional<std::vector<std::string>> units;
  // The child scope it counts in: "regions/R" (or "regions/(none)") for
  // the enterprise, "facilities/F" for a region, "" below.
  std::string child;
};

// What a scope covers over production days [from, to], the one place that
// knows: the enterprise is every facility, split by the region it counted
// in day by day; a region its facilities on their days there; an area or
// work center the units under it. NOT_FOUND names what is not defined.
absl::StatusOr<std::vector<ScopePart>> ResolveScope(const model::EnterpriseModel& model,
                                                    const Scope& scope, absl::CivilDay from,
                                                    absl::CivilDay to);

// How many production days a query may span: by hour, shift or day; a
// total or by child, week or month.
inline constexpr int kMaxFineDays = 367;
inline constexpr int kMaxCoarseDays = 3653;

struct QueryRequest {
  Scope scope;
  std::vector<std::string> kpis;  // registry ids
  absl::CivilDay from;            // production days, inclusive
  absl::CivilDay to;
  Breakdown by = Breakdown::kNone;
};

struct KpiValue {
  std::string id;
  std::optional<double> value;  // none: no data (a denominator is zero)
};

struct QueryRow {
  std::string label;  // child scope name or bucket label
  kpi::ElementSums sums;  // the production elements
  // The sums of every other family a requested KPI reads (kpi/family.h).
  std::map<std::string, kpi::Values> family_sums;
  std::vector<KpiValue> kpis;
};

struct QueryResult {
  QueryRow total;
  std::vector<QueryRow> rows;  // the breakdown, in label order
};

struct ReasonRow {
  std::string reason;
  int64_t micros = 0;     // delay and failure time
  int64_t stoppages = 0;  // stoppages started
};

// Downtime Pareto: stoppage time per reason for a scope at facility level or
// above over production days [from, to], largest first.
absl::StatusOr<std::vector<ReasonRow>> DowntimePareto(const RollupStore& store,
                                                      const model::EnterpriseModel& model,
                                                      const Scope& scope, absl::CivilDay from,
                                                      absl::CivilDay to);

// Validates the request against the model (scope exists, known KPIs,
// from <= to, at most 366 days) and answers it from the store.
absl::StatusOr<QueryResult> RunQuery(const RollupStore& store, const model::EnterpriseModel& model,
                                     const QueryRequest& request);

}  // namespace takt::rollup

#endif  // TAKT_SERVICES_ROLLUPS_QUERY_H_
