#include "services/rollups/query.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "libs/common/status_macros.h"
#include "libs/kpi/registry.h"

namespace takt::rollup {
namespace {

// A stretch of production days of one facility (or one of its units).
struct Piece {
  std::string facility;
  std::string unit;  // empty: the whole facility
  absl::CivilDay from, to;
  std::string child;  // the child scope it belongs to, for breakdown by child
};

std::string DayLabel(absl::CivilDay d) { return absl::FormatCivilTime(d); }

std::string WeekLabel(absl::CivilDay d) {
  // ISO week: the week (Monday..Sunday) belongs to the year of its Thursday.
  absl::CivilDay monday = d;
  while (absl::GetWeekday(monday) != absl::Weekday::monday) --monday;
  absl::CivilDay thursday = monday + 3;
  absl::CivilDay jan1(thursday.year(), 1, 1);
  int week = static_cast<int>((thursday - jan1) / 7) + 1;
  return absl::StrFormat("%04d-W%02d", thursday.year(), week);
}

std::string MonthLabel(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d", d.year(), d.month());
}

void Evaluate(const std::vector<std::string>& kpis, QueryRow& row) {
  row.kpis.clear();
  for (const std::string& id : kpis) {
    row.kpis.push_back(KpiValue{id, kpi::Evaluate(*kpi::FindKpi(id), row.sums)});
  }
}

}  // namespace

std::string Scope::Name() const {
  switch (kind) {
    case Kind::kEnterprise: return "enterprise";
    case Kind::kRegion: return absl::StrCat("regions/", region);
    case Kind::kFacility: return absl::StrCat("facilities/", facility);
    case Kind::kArea: return absl::StrCat("facilities/", facility, "/areas/", area);
    case Kind::kWorkCenter: return absl::StrCat("facilities/", facility, "/workCenters/", work_center);
    case Kind::kWorkUnit: return absl::StrCat("facilities/", facility, "/workUnits/", work_unit);
  }
  return "";
}

absl::StatusOr<Scope> ParseScope(std::string_view name) {
  std::vector<std::string> parts = absl::StrSplit(std::string(name), '/');
  Scope s;
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "scope '", std::string(name),
        "': expected enterprise, regions/{region}, facilities/{facility}, or "
        "facilities/{facility}/{areas|workCenters|workUnits}/{id}"));
  };
  for (const std::string& p : parts) {
    if (p.empty()) return bad();
  }
  if (parts.size() == 1 && parts[0] == "enterprise") return s;
  if (parts.size() == 2 && parts[0] == "regions") {
    s.kind = Scope::Kind::kRegion;
    s.region = parts[1];
    return s;
  }
  if (parts.size() >= 2 && parts[0] == "facilities") {
    s.facility = parts[1];
    if (parts.size() == 2) {
      s.kind = Scope::Kind::kFacility;
      return s;
    }
    if (parts.size() == 4) {
      if (parts[2] == "areas") {
        s.kind = Scope::Kind::kArea;
        s.area = parts[3];
        return s;
      }
      if (parts[2] == "workCenters") {
        s.kind = Scope::Kind::kWorkCenter;
        s.work_center = parts[3];
        return s;
      }
      if (parts[2] == "workUnits") {
        s.kind = Scope::Kind::kWorkUnit;
        s.work_unit = parts[3];
        return s;
      }
    }
  }
  return bad();
}

absl::StatusOr<Breakdown> ParseBreakdown(std::string_view by) {
  if (by.empty() || by == "none") return Breakdown::kNone;
  if (by == "child") return Breakdown::kChild;
  if (by == "hour") return Breakdown::kHour;
  if (by == "shift") return Breakdown::kShift;
  if (by == "day") return Breakdown::kDay;
  if (by == "week") return Breakdown::kWeek;
  if (by == "month") return Breakdown::kMonth;
  return absl::InvalidArgumentError(absl::StrCat(
      "by '", std::string(by), "': expected child, hour, shift, day, week or month"));
}

absl::StatusOr<QueryResult> RunQuery(const RollupStore& store, const model::EnterpriseModel& model,
                                     const QueryRequest& q) {
  for (const std::string& id : q.kpis) {
    if (kpi::FindKpi(id) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("kpi '", id, "' is not in the registry"));
    }
  }
  if (q.from > q.to) return absl::InvalidArgumentError("from: must not be after to");
  if (q.to - q.from > 366) return absl::InvalidArgumentError("a query spans at most 366 days");

  // The scope as pieces of facilities / units over day ranges.
  std::vector<Piece> pieces;
  const Scope& s = q.scope;
  auto require_facility = [&]() -> absl::Status {
    if (model.Facility(s.facility) == nullptr) {
      return absl::NotFoundError(absl::StrCat("facility '", s.facility, "' is not defined"));
    }
    return absl::OkStatus();
  };
  switch (s.kind) {
    case Scope::Kind::kEnterprise:
      for (const std::string& f : model.Facilities()) {
        // Children of the enterprise are regions, day by day.
        for (const std::string& r : model.Regions()) {
          for (auto [from, to] : model.DaysInRegion(f, r, q.from, q.to)) {
            pieces.push_back({f, "", from, to, absl::StrCat("regions/", r)});
          }
        }
        // Days on which the facility belonged to no region still count.
        absl::CivilDay d = q.from;
        while (d <= q.to) {
          if (model.RegionOf(f, d).has_value()) {
            ++d;
            continue;
          }
          absl::CivilDay start = d;
          while (d <= q.to && !model.RegionOf(f, d).has_value()) ++d;
          pieces.push_back({f, "", start, d - 1, "regions/(none)"});
        }
      }
      break;
    case Scope::Kind::kRegion:
      if (!model.HasRegion(s.region)) {
        return absl::NotFoundError(absl::StrCat("region '", s.region, "' is not defined"));
      }
      for (const std::string& f : model.Facilities()) {
        for (auto [from, to] : model.DaysInRegion(f, s.region, q.from, q.to)) {
          pieces.push_back({f, "", from, to, absl::StrCat("facilities/", f)});
        }
      }
      break;
    case Scope::Kind::kFacility:
      TAKT_RETURN_IF_ERROR(require_facility());
      if (q.by == Breakdown::kChild) {
        for (const std::string& u : model.WorkUnits(s.facility, "", "")) {
          pieces.push_back({s.facility, u, q.from, q.to,
                            absl::StrCat("facilities/", s.facility, "/workUnits/", u)});
        }
      } else {
        pieces.push_back({s.facility, "", q.from, q.to, ""});
      }
      break;
    case Scope::Kind::kArea:
    case Scope::Kind::kWorkCenter: {
      TAKT_RETURN_IF_ERROR(require_facility());
      if (s.kind == Scope::Kind::kArea && !model.HasArea(s.facility, s.area)) {
        return absl::NotFoundError(absl::StrCat("area '", s.area, "' is not defined"));
      }
      if (s.kind == Scope::Kind::kWorkCenter && !model.HasWorkCenter(s.facility, s.work_center)) {
        return absl::NotFoundError(absl::StrCat("work center '", s.work_center, "' is not defined"));
      }
      for (const std::string& u : model.WorkUnits(s.facility, s.area, s.work_center)) {
        pieces.push_back({s.facility, u, q.from, q.to,
                          absl::StrCat("facilities/", s.facility, "/workUnits/", u)});
      }
      break;
    }
    case Scope::Kind::kWorkUnit:
      TAKT_RETURN_IF_ERROR(require_facility());
      if (!model.HasWorkUnit(s.facility, s.work_unit)) {
        return absl::NotFoundError(absl::StrCat("work unit '", s.work_unit, "' is not defined"));
      }
      if (q.by == Breakdown::kChild) {
        return absl::InvalidArgumentError("a work unit has no children to break down by");
      }
      pieces.push_back({s.facility, s.work_unit, q.from, q.to, ""});
      break;
  }

  auto sum = [&](const Piece& p, absl::Time from, absl::Time to) {
    return p.unit.empty() ? store.SumFacility(p.facility, from, to)
                          : store.SumUnit(p.facility, p.unit, from, to);
  };
  QueryResult result;
  result.total.label = s.Name();
  std::map<std::string, kpi::ElementSums> rows;
  for (const Piece& p : pieces) {
    TAKT_ASSIGN_OR_RETURN(const kpi::FacilityCalendar* cal, model.CalendarOrError(p.facility));
    switch (q.by) {
      case Breakdown::kNone:
      case Breakdown::kChild: {
        kpi::ElementSums v;
        if (p.unit.empty()) {  // whole facility: day buckets
          TAKT_ASSIGN_OR_RETURN(auto days, store.FacilityDays(p.facility, p.from, p.to));
          for (const auto& [d, sums] : days) v += sums;
        } else {
          TAKT_ASSIGN_OR_RETURN(v, sum(p, cal->Day(p.from).start, cal->Day(p.to).end));
        }
        result.total.sums += v;
        if (q.by == Breakdown::kChild) rows[p.child] += v;
        break;
      }
      case Breakdown::kHour: {
        TAKT_ASSIGN_OR_RETURN(auto hours,
                              store.Hours(p.facility, p.unit, cal->Day(p.from).start,
                                          cal->Day(p.to).end));
        for (const auto& [hour, v] : hours) {
          result.total.sums += v;
          rows[cal->LocalLabel(hour)] += v;
        }
        break;
      }
      case Breakdown::kShift:
        for (absl::CivilDay d = p.from; d <= p.to; ++d) {
          for (const kpi::ShiftDef& def : cal->SpecOn(d).shifts) {
            TAKT_ASSIGN_OR_RETURN(kpi::ShiftInstance shift, cal->Shift(d, def.name));
            TAKT_ASSIGN_OR_RETURN(kpi::ElementSums v,
                                  sum(p, shift.interval.start, shift.interval.end));
            result.total.sums += v;
            rows[absl::StrCat(DayLabel(d), "/", def.name)] += v;
          }
        }
        break;
      case Breakdown::kDay:
      case Breakdown::kWeek:
      case Breakdown::kMonth:
        if (p.unit.empty()) {
          TAKT_ASSIGN_OR_RETURN(auto days, store.FacilityDays(p.facility, p.from, p.to));
          for (const auto& [d, v] : days) {
            result.total.sums += v;
            rows[q.by == Breakdown::kDay    ? DayLabel(d)
                 : q.by == Breakdown::kWeek ? WeekLabel(d)
                                            : MonthLabel(d)] += v;
          }
          break;
        }
        for (absl::CivilDay d = p.from; d <= p.to; ++d) {
          kpi::Interval day = cal->Day(d);
          TAKT_ASSIGN_OR_RETURN(kpi::ElementSums v, sum(p, day.start, day.end));
          result.total.sums += v;
          std::string label = q.by == Breakdown::kDay    ? DayLabel(d)
                              : q.by == Breakdown::kWeek ? WeekLabel(d)
                                                         : MonthLabel(d);
          rows[label] += v;
        }
        break;
    }
  }
  if (auto e = result.total.sums.Overflowed()) {
    return absl::OutOfRangeError(absl::StrCat(
        "the sum of element ", std::string(kpi::ElementName(*e)), " over ", s.Name(),
        " exceeds the 64-bit range: the data claims more than any plant can produce; "
        "correct the observations that caused it (takt audit replay shows them)"));
  }
  Evaluate(q.kpis, result.total);
  for (auto& [label, sums] : rows) {
    QueryRow row{label, sums, {}};
    Evaluate(q.kpis, row);
    result.rows.push_back(std::move(row));
  }
  return result;
}

absl::StatusOr<std::vector<ReasonRow>> DowntimePareto(const RollupStore& store,
                                                      const model::EnterpriseModel& model,
                                                      const Scope& s, absl::CivilDay from,
                                                      absl::CivilDay to) {
  if (from > to) return absl::InvalidArgumentError("from: must not be after to");
  std::vector<std::tuple<std::string, absl::CivilDay, absl::CivilDay>> pieces;
  switch (s.kind) {
    case Scope::Kind::kEnterprise:
      for (const std::string& f : model.Facilities()) pieces.emplace_back(f, from, to);
      break;
    case Scope::Kind::kRegion:
      if (!model.HasRegion(s.region)) {
        return absl::NotFoundError(absl::StrCat("region '", s.region, "' is not defined"));
      }
      for (const std::string& f : model.Facilities()) {
        for (auto [a, b] : model.DaysInRegion(f, s.region, from, to)) pieces.emplace_back(f, a, b);
      }
      break;
    case Scope::Kind::kFacility:
      if (model.Facility(s.facility) == nullptr) {
        return absl::NotFoundError(absl::StrCat("facility '", s.facility, "' is not defined"));
      }
      pieces.emplace_back(s.facility, from, to);
      break;
    default:
      return absl::InvalidArgumentError(
          "the downtime Pareto is kept per facility: ask for a facility, region or the enterprise");
  }
  std::map<std::string, ReasonRow> by_reason;
  for (const auto& [f, a, b] : pieces) {
    TAKT_ASSIGN_OR_RETURN(const kpi::FacilityCalendar* cal, model.CalendarOrError(f));
    TAKT_ASSIGN_OR_RETURN(auto reasons, store.Reasons(f, cal->Day(a).start, cal->Day(b).end));
    for (const auto& [reason, v] : reasons) {
      ReasonRow& row = by_reason[reason];
      row.reason = reason;
      row.micros += v.first;
      row.stoppages += v.second;
    }
  }
  std::vector<ReasonRow> out;
  for (auto& [r, row] : by_reason) {
    if (row.micros != 0 || row.stoppages != 0) out.push_back(row);
  }
  std::sort(out.begin(), out.end(), [](const ReasonRow& x, const ReasonRow& y) {
    return x.micros != y.micros ? x.micros > y.micros : x.reason < y.reason;
  });
  return out;
}

}  // namespace takt::rollup
