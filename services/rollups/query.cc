#include "services/rollups/query.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "libs/common/status_macros.h"
#include "libs/kpi/family.h"
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
    const kpi::KpiDef& k = *kpi::FindKpi(id);
    if (k.family == kpi::kProductionFamily) {
      row.kpis.push_back(KpiValue{id, kpi::Evaluate(k, row.sums)});
    } else {
      auto it = row.family_sums.find(k.family);
      row.kpis.push_back(KpiValue{id, it == row.family_sums.end()
                                          ? std::nullopt
                                          : kpi::Evaluate(k, it->second)});
    }
  }
}

kpi::Values ToValues(const kpi::ElementSums& sums) { return kpi::Values(sums.v.begin(), sums.v.end()); }

// Where one family's sums come from: production's rows or a family's.
struct Source {
  const RollupStore& store;
  const kpi::FamilyRegistration* family;  // null: production

  absl::StatusOr<kpi::Values> Sum(const Piece& p, absl::Time from, absl::Time to) const {
    if (family != nullptr) return store.SumFamily(family->family, p.facility, p.unit, from, to);
    TAKT_ASSIGN_OR_RETURN(kpi::ElementSums s, p.unit.empty()
                                                  ? store.SumFacility(p.facility, from, to)
                                                  : store.SumUnit(p.facility, p.unit, from, to));
    return ToValues(s);
  }
  absl::StatusOr<std::map<absl::CivilDay, kpi::Values>> Days(const Piece& p) const {
    if (family != nullptr) return store.FamilyDays(family->family, p.facility, p.from, p.to);
    TAKT_ASSIGN_OR_RETURN(auto days, store.FacilityDays(p.facility, p.from, p.to));
    std::map<absl::CivilDay, kpi::Values> out;
    for (const auto& [d, sums] : days) out.emplace(d, ToValues(sums));
    return out;
  }
  // The sum of Days(p), without a vector per day (the common, unbroken-down
  // query of facilities over weeks and months).
  absl::StatusOr<kpi::Values> DaysTotal(const Piece& p) const {
    if (family != nullptr) {
      TAKT_ASSIGN_OR_RETURN(auto days, store.FamilyDays(family->family, p.facility, p.from, p.to));
      kpi::Values total;
      for (const auto& [d, v] : days) kpi::AddInto(total, v);
      return total;
    }
    TAKT_ASSIGN_OR_RETURN(auto days, store.FacilityDays(p.facility, p.from, p.to));
    kpi::ElementSums total;
    for (const auto& [d, sums] : days) total += sums;
    return ToValues(total);
  }
  absl::StatusOr<std::map<absl::Time, kpi::Values>> Hours(const Piece& p, absl::Time from,
                                                          absl::Time to) const {
    if (family != nullptr) return store.FamilyHours(family->family, p.facility, p.unit, from, to);
    TAKT_ASSIGN_OR_RETURN(auto hours, store.Hours(p.facility, p.unit, from, to));
    std::map<absl::Time, kpi::Values> out;
    for (const auto& [h, sums] : hours) out.emplace(h, ToValues(sums));
    return out;
  }
  std::string ElementName(size_t i) const {
    return family == nullptr ? std::string(kpi::ElementName(static_cast<kpi::Element>(i)))
                             : absl::StrCat(family->family.name, ".", family->family.elements[i].name);
  }
};

// One family's sums for the scope's pieces: the total and the breakdown rows.
absl::Status SumPieces(const Source& source, const model::EnterpriseModel& model,
                       const QueryRequest& q, const std::vector<Piece>& pieces, kpi::Values& total,
                       std::map<std::string, kpi::Values>& rows) {
  auto add = [&](const std::string& label, const kpi::Values& v) {
    kpi::AddInto(total, v);
    if (!label.empty()) kpi::AddInto(rows[label], v);
  };
  for (const Piece& p : pieces) {
    TAKT_ASSIGN_OR_RETURN(const kpi::FacilityCalendar* cal, model.CalendarOrError(p.facility));
    switch (q.by) {
      case Breakdown::kNone:
      case Breakdown::kChild: {
        const std::string label = q.by == Breakdown::kChild ? p.child : "";
        if (p.unit.empty()) {  // whole facility: day buckets
          TAKT_ASSIGN_OR_RETURN(kpi::Values v, source.DaysTotal(p));
          add(label, v);
        } else {
          TAKT_ASSIGN_OR_RETURN(kpi::Values v,
                                source.Sum(p, cal->Day(p.from).start, cal->Day(p.to).end));
          add(label, v);
        }
        break;
      }
      case Breakdown::kHour: {
        TAKT_ASSIGN_OR_RETURN(auto hours,
                              source.Hours(p, cal->Day(p.from).start, cal->Day(p.to).end));
        for (const auto& [hour, v] : hours) add(cal->LocalLabel(hour), v);
        break;
      }
      case Breakdown::kShift:
        for (absl::CivilDay d = p.from; d <= p.to; ++d) {
          for (const kpi::ShiftDef& def : cal->SpecOn(d).shifts) {
            TAKT_ASSIGN_OR_RETURN(kpi::ShiftInstance shift, cal->Shift(d, def.name));
            TAKT_ASSIGN_OR_RETURN(kpi::Values v,
                                  source.Sum(p, shift.interval.start, shift.interval.end));
            add(absl::StrCat(DayLabel(d), "/", def.name), v);
          }
        }
        break;
      case Breakdown::kDay:
      case Breakdown::kWeek:
      case Breakdown::kMonth: {
        auto label = [&](absl::CivilDay d) {
          return q.by == Breakdown::kDay    ? DayLabel(d)
                 : q.by == Breakdown::kWeek ? WeekLabel(d)
                                            : MonthLabel(d);
        };
        if (p.unit.empty()) {
          // Days in order: sum a period's days, then add the period once
          // (a three-year monthly trend: 36 labels and additions, not 1,095).
          auto period = [&](absl::CivilDay d) {
            if (q.by == Breakdown::kMonth) return absl::CivilDay(absl::CivilMonth(d));
            if (q.by == Breakdown::kWeek) {
              while (absl::GetWeekday(d) != absl::Weekday::monday) --d;
            }
            return d;
          };
          TAKT_ASSIGN_OR_RETURN(auto days, source.Days(p));
          std::optional<absl::CivilDay> open;
          kpi::Values sum;
          for (const auto& [d, v] : days) {
            const absl::CivilDay start = period(d);
            if (open && *open != start) {
              add(label(*open), sum);
              sum.clear();
            }
            open = start;
            kpi::AddInto(sum, v);
          }
          if (open) add(label(*open), sum);
          break;
        }
        for (absl::CivilDay d = p.from; d <= p.to; ++d) {
          kpi::Interval day = cal->Day(d);
          TAKT_ASSIGN_OR_RETURN(kpi::Values v, source.Sum(p, day.start, day.end));
          add(label(d), v);
        }
        break;
      }
    }
  }
  for (size_t i = 0; i < total.size(); ++i) {
    if (total[i] == kpi::kOverflowed) {
      return absl::OutOfRangeError(absl::StrCat(
          "the sum of element ", source.ElementName(i), " over ", q.scope.Name(),
          " exceeds the 64-bit range: the data claims more than any plant can produce; "
          "correct the observations that caused it (takt audit replay shows them)"));
    }
  }
  return absl::OkStatus();
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

absl::StatusOr<std::vector<ScopePart>> ResolveScope(const model::EnterpriseModel& model,
                                                    const Scope& s, absl::CivilDay from,
                                                    absl::CivilDay to) {
  std::vector<ScopePart> parts;
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
          for (auto [a, b] : model.DaysInRegion(f, r, from, to)) {
            parts.push_back({f, a, b, std::nullopt, absl::StrCat("regions/", r)});
          }
        }
        // Days on which the facility belonged to no region still count.
        absl::CivilDay d = from;
        while (d <= to) {
          if (model.RegionOf(f, d).has_value()) {
            ++d;
            continue;
          }
          absl::CivilDay start = d;
          while (d <= to && !model.RegionOf(f, d).has_value()) ++d;
          parts.push_back({f, start, d - 1, std::nullopt, "regions/(none)"});
        }
      }
      break;
    case Scope::Kind::kRegion:
      if (!model.HasRegion(s.region)) {
        return absl::NotFoundError(absl::StrCat("region '", s.region, "' is not defined"));
      }
      for (const std::string& f : model.Facilities()) {
        for (auto [a, b] : model.DaysInRegion(f, s.region, from, to)) {
          parts.push_back({f, a, b, std::nullopt, absl::StrCat("facilities/", f)});
        }
      }
      break;
    case Scope::Kind::kFacility:
      TAKT_RETURN_IF_ERROR(require_facility());
      parts.push_back({s.facility, from, to, std::nullopt, ""});
      break;
    case Scope::Kind::kArea:
    case Scope::Kind::kWorkCenter:
      TAKT_RETURN_IF_ERROR(require_facility());
      if (s.kind == Scope::Kind::kArea && !model.HasArea(s.facility, s.area)) {
        return absl::NotFoundError(absl::StrCat("area '", s.area, "' is not defined"));
      }
      if (s.kind == Scope::Kind::kWorkCenter && !model.HasWorkCenter(s.facility, s.work_center)) {
        return absl::NotFoundError(absl::StrCat("work center '", s.work_center, "' is not defined"));
      }
      parts.push_back({s.facility, from, to, model.WorkUnits(s.facility, s.area, s.work_center), ""});
      break;
    case Scope::Kind::kWorkUnit:
      TAKT_RETURN_IF_ERROR(require_facility());
      if (!model.HasWorkUnit(s.facility, s.work_unit)) {
        return absl::NotFoundError(absl::StrCat("work unit '", s.work_unit, "' is not defined"));
      }
      parts.push_back({s.facility, from, to, std::vector<std::string>{s.work_unit}, ""});
      break;
  }
  return parts;
}

absl::StatusOr<QueryResult> RunQuery(const RollupStore& store, const model::EnterpriseModel& model,
                                     const QueryRequest& q) {
  for (const std::string& id : q.kpis) {
    if (kpi::FindKpi(id) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("kpi '", id, "' is not in the registry"));
    }
  }
  if (q.from > q.to) return absl::InvalidArgumentError("from: must not be after to");
  // Fine breakdowns list every hour, shift or day: a year at most. Coarse
  // ones (and totals) read the facilities' day rows: ten years.
  const bool fine = q.by == Breakdown::kHour || q.by == Breakdown::kShift || q.by == Breakdown::kDay;
  if (q.to - q.from > (fine ? kMaxFineDays : kMaxCoarseDays) - 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a query by hour, shift or day spans at most ", kMaxFineDays, " days; a total, or one by child, week or ",
        "month, at most ", kMaxCoarseDays, " days (10 years)"));
  }

  // The scope as pieces of facilities / units over day ranges.
  TAKT_ASSIGN_OR_RETURN(std::vector<ScopePart> parts, ResolveScope(model, q.scope, q.from, q.to));
  const Scope& s = q.scope;
  if (s.kind == Scope::Kind::kWorkUnit && q.by == Breakdown::kChild) {
    return absl::InvalidArgumentError("a work unit has no children to break down by");
  }
  std::vector<Piece> pieces;
  for (const ScopePart& part : parts) {
    std::optional<std::vector<std::string>> units = part.units;
    // A facility broken down by child: its work units.
    if (!units && s.kind == Scope::Kind::kFacility && q.by == Breakdown::kChild) {
      units = model.WorkUnits(part.facility, "", "");
    }
    if (!units) {
      pieces.push_back({part.facility, "", part.from, part.to, part.child});
      continue;
    }
    for (const std::string& u : *units) {
      pieces.push_back({part.facility, u, part.from, part.to,
                        absl::StrCat("facilities/", part.facility, "/workUnits/", u)});
    }
  }

  // The families the KPIs need (production always: its elements are in
  // every answer), each summed over the same pieces.
  std::vector<const kpi::FamilyRegistration*> families = {nullptr};
  for (const std::string& id : q.kpis) {
    const std::string& family = kpi::FindKpi(id)->family;
    if (family == kpi::kProductionFamily) continue;
    const kpi::FamilyRegistration* f = kpi::FindFamily(family);
    if (f == nullptr) return absl::InternalError(absl::StrCat("kpi '", id, "': no family ", family));
    if (std::find(families.begin(), families.end(), f) == families.end()) families.push_back(f);
  }
  QueryResult result;
  result.total.label = s.Name();
  std::map<std::string, QueryRow> rows;
  for (const kpi::FamilyRegistration* f : families) {
    kpi::Values total(f == nullptr ? kpi::kElementCount : f->family.elements.size(), 0);
    std::map<std::string, kpi::Values> by_label;
    TAKT_RETURN_IF_ERROR(SumPieces(Source{store, f}, model, q, pieces, total, by_label));
    auto put = [&](QueryRow& row, kpi::Values& v) {
      if (f == nullptr) {
        std::copy_n(v.begin(), std::min<size_t>(v.size(), kpi::kElementCount), row.sums.v.begin());
      } else {
        v.resize(f->family.elements.size(), 0);
        row.family_sums[f->family.name] = std::move(v);
      }
    };
    put(result.total, total);
    for (auto& [label, v] : by_label) {
      QueryRow& row = rows[label];
      row.label = label;
      put(row, v);
    }
  }
  Evaluate(q.kpis, result.total);
  for (auto& [label, row] : rows) {
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
  if (s.kind != Scope::Kind::kEnterprise && s.kind != Scope::Kind::kRegion &&
      s.kind != Scope::Kind::kFacility) {
    return absl::InvalidArgumentError(
        "the downtime Pareto is kept per facility: ask for a facility, region or the enterprise");
  }
  TAKT_ASSIGN_OR_RETURN(std::vector<ScopePart> parts, ResolveScope(model, s, from, to));
  std::vector<std::tuple<std::string, absl::CivilDay, absl::CivilDay>> pieces;
  for (const ScopePart& p : parts) pieces.emplace_back(p.facility, p.from, p.to);
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
