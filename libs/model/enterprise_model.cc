#include "libs/common/errors.h"
#include "libs/model/enterprise_model.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/common/plan_stream.h"
#include "libs/common/status_macros.h"
#include "libs/kpi/limits.h"

namespace takt::model {
namespace {

// Ids of regions, facilities, areas, work centers, units and products follow
// the facility-id rules: they appear in resource names and stream keys.
absl::Status CheckId(const char* field, const std::string& id) { return ValidateId(field, id); }

template <typename Map, typename Key>
bool SameAs(const Map& map, const Key& key, const google::protobuf::Message& m) {
  auto it = map.find(key);
  return it != map.end() && it->second.SerializeAsString() == m.SerializeAsString();
}

ModelEvent EventOf(const google::protobuf::Message& m) {
  return ModelEvent{m.GetDescriptor()->full_name(), m.SerializeAsString()};
}

constexpr size_t kMaxReason = 1024;

}  // namespace

absl::StatusOr<int> ParseClock(const std::string& s) {
  if (s.size() != 5 || s[2] != ':' || !isdigit(s[0]) || !isdigit(s[1]) || !isdigit(s[3]) ||
      !isdigit(s[4])) {
    return absl::InvalidArgumentError(absl::StrCat("'", s, "' is not a time of day HH:MM"));
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0)) {
    return absl::InvalidArgumentError(absl::StrCat("'", s, "' is not a time of day HH:MM"));
  }
  return h * 60 + m;
}

absl::StatusOr<absl::CivilDay> DayOf(const std::string& s, bool recorded) {
  if (!recorded) return ParseDay(s);
  // Recorded before dates were bounded: what absl parses, as then.
  absl::CivilDay day;
  if (!absl::ParseCivilTime(s, &day)) {
    return absl::InvalidArgumentError(absl::StrCat("'", absl::CHexEscape(s.substr(0, 40)),
                                                   "' is not a date YYYY-MM-DD"));
  }
  return day;
}

absl::StatusOr<absl::CivilDay> ParseDay(const std::string& s) {
  absl::CivilDay day;
  if (s.size() != 10 || !absl::ParseCivilTime(s, &day)) {
    return absl::InvalidArgumentError(absl::StrCat("'", absl::CHexEscape(s.substr(0, 40)),
                                                   "' is not a date YYYY-MM-DD"));
  }
  if (day.year() < 1900 || day.year() > 2999) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", s, "' is out of range (years 1900 to 2999)"));
  }
  return day;
}

bool SameCalendar(const ev1::Calendar& a, const ev1::Calendar& b) {
  ev1::Calendar x = a;
  ev1::Calendar y = b;
  x.clear_effective_from();
  y.clear_effective_from();
  return x.SerializeAsString() == y.SerializeAsString();
}

absl::StatusOr<kpi::FacilityCalendar> MakeCalendar(const ev1::Calendar& c) {
  kpi::CalendarSpec spec;
  spec.time_zone = c.time_zone();
  auto day_start = ParseClock(c.day_start().empty() ? "00:00" : c.day_start());
  if (!day_start.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("calendar.day_start: ", day_start.status().message()));
  }
  spec.day_start_minute = *day_start % (24 * 60);
  for (const ev1::Shift& s : c.shifts()) {
    auto start = ParseClock(s.start());
    auto end = ParseClock(s.end());
    if (!start.ok() || !end.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "calendar.shifts[", s.name(), "]: ", (!start.ok() ? start : end).status().message()));
    }
    spec.shifts.push_back(kpi::ShiftDef{s.name(), *start % (24 * 60), *end % (24 * 60)});
  }
  return kpi::FacilityCalendar::Create(spec);
}

absl::StatusOr<auth::Binding> BindingOf(const std::string& subject, const std::string& role,
                                        const std::string& scope) {
  auth::Binding b;
  b.subject = subject;
  TAKT_ASSIGN_OR_RETURN(b.role, auth::ParseRole(role));
  TAKT_ASSIGN_OR_RETURN(b.scope, auth::ParseScope(scope));
  TAKT_RETURN_IF_ERROR(auth::AccessBindings::Check(b));
  return b;
}

absl::Status EnterpriseModel::CheckBinding(const std::string& subject, const std::string& role,
                                           const std::string& scope, const std::string& reason,
                                           bool recorded) const {
  auto b = BindingOf(subject, role, scope);
  if (!b.ok()) return b.status();
  if (recorded) return absl::OkStatus();
  if (reason.empty() || reason.size() > kMaxReason) {
    return absl::InvalidArgumentError("reason: say why, in 1 to 1024 bytes (it is recorded with the binding)");
  }
  if (b->scope.kind == auth::Scope::Kind::kRegion && !HasRegion(b->scope.id)) {
    return absl::NotFoundError(absl::StrCat("scope: region '", b->scope.id, "' is not defined"));
  }
  if (b->scope.kind == auth::Scope::Kind::kFacility && Facility(b->scope.id) == nullptr) {
    return absl::NotFoundError(absl::StrCat("scope: facility '", b->scope.id, "' is not defined"));
  }
  return absl::OkStatus();
}

absl::Status EnterpriseModel::Validate(const google::protobuf::Message& m, bool recorded) const {
  if (auto* g = dynamic_cast<const ev1::RoleGranted*>(&m)) {
    return CheckBinding(g->subject(), g->role(), g->scope(), g->reason(), recorded);
  }
  if (auto* r = dynamic_cast<const ev1::RoleRevoked*>(&m)) {
    return CheckBinding(r->subject(), r->role(), r->scope(), r->reason(), recorded);
  }
  if (auto* r = dynamic_cast<const ev1::RegionDefined*>(&m)) {
    return CheckId("region", r->region());
  }
  if (auto* f = dynamic_cast<const ev1::FacilityDefined*>(&m)) {
    TAKT_RETURN_IF_ERROR(CheckId("facility", f->facility()));
    if (HasReservedStreamSuffix(f->facility())) {
      // "<facility>.plan" and "<facility>.qms" name streams of a facility.
      return absl::InvalidArgumentError(absl::StrCat(
          "facility '", f->facility(), "': ids ending in '.plan' or '.qms' are reserved"));
    }
    if (!f->commissioned_on().empty()) {
      auto day = DayOf(f->commissioned_on(), recorded);
      if (!day.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("facility '", f->facility(),
                                                       "': commissioned_on: ", day.status().message()));
      }
    }
    if (!f->calendar().effective_from().empty()) {
      auto day = DayOf(f->calendar().effective_from(), recorded);
      if (!day.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "facility '", f->facility(), "': calendar.effective_from: ", day.status().message()));
      }
    }
    if (recorded) return absl::OkStatus();
    TAKT_RETURN_IF_ERROR(kpi::CheckCanonicalZoneName(f->calendar().time_zone()));
    return MakeCalendar(f->calendar()).status();
  }
  if (auto* mv = dynamic_cast<const ev1::FacilityMoved*>(&m)) {
    if (!facilities_.count(mv->facility())) {
      return absl::NotFoundError(absl::StrCat("facility '", mv->facility(), "' is not defined"));
    }
    if (!regions_.count(mv->region())) {
      return absl::NotFoundError(absl::StrCat("region '", mv->region(), "' is not defined"));
    }
    auto day = DayOf(mv->effective_from(), recorded);
    if (!day.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("effective_from: ", day.status().message()));
    }
    return absl::OkStatus();
  }
  if (auto* a = dynamic_cast<const ev1::AreaDefined*>(&m)) {
    TAKT_RETURN_IF_ERROR(CheckId("area", a->area()));
    if (!facilities_.count(a->facility())) {
      return absl::NotFoundError(absl::StrCat("facility '", a->facility(), "' is not defined"));
    }
    return absl::OkStatus();
  }
  if (auto* w = dynamic_cast<const ev1::WorkCenterDefined*>(&m)) {
    TAKT_RETURN_IF_ERROR(CheckId("work_center", w->work_center()));
    if (!areas_.count({w->facility(), w->area()})) {
      return absl::NotFoundError(absl::StrCat("area '", w->area(), "' is not defined in facility '",
                                              w->facility(), "'"));
    }
    return absl::OkStatus();
  }
  if (auto* u = dynamic_cast<const ev1::WorkUnitDefined*>(&m)) {
    TAKT_RETURN_IF_ERROR(CheckId("work_unit", u->work_unit()));
    if (!work_centers_.count({u->facility(), u->work_center()})) {
      return absl::NotFoundError(absl::StrCat("work center '", u->work_center(),
                                              "' is not defined in facility '", u->facility(), "'"));
    }
    return absl::OkStatus();
  }
  if (auto* p = dynamic_cast<const ev1::ProductDefined*>(&m)) {
    TAKT_RETURN_IF_ERROR(CheckId("product", p->product()));
    // Events recorded before the bounds existed keep the old rule (> 0).
    if (absl::Status b = recorded && p->planned_run_time_per_item_us() > 0
                             ? absl::OkStatus()
                             : kpi::CheckPlannedRunTime(p->planned_run_time_per_item_us(),
                                                        "planned_run_time_per_item");
        !b.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("product '", p->product(), "': ", b.message()));
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("not an enterprise definition: ", m.GetDescriptor()->full_name()));
}

absl::StatusOr<std::vector<ModelEvent>> EnterpriseModel::Decide(
    const google::protobuf::Message& m, absl::Time now) const {
  TAKT_RETURN_IF_ERROR(Validate(m));
  if (auto* f = dynamic_cast<const ev1::FacilityDefined*>(&m)) return DecideFacility(*f, now);
  bool unchanged = false;
  if (auto* r = dynamic_cast<const ev1::RegionDefined*>(&m)) {
    unchanged = SameAs(regions_, r->region(), m);
  } else if (auto* mv = dynamic_cast<const ev1::FacilityMoved*>(&m)) {
    const FacilityInfo& info = facilities_.at(mv->facility());
    auto it = info.regions.find(*ParseDay(mv->effective_from()));
    unchanged = it != info.regions.end() && it->second == mv->region();
  } else if (auto* a = dynamic_cast<const ev1::AreaDefined*>(&m)) {
    unchanged = SameAs(areas_, std::make_pair(a->facility(), a->area()), m);
  } else if (auto* w = dynamic_cast<const ev1::WorkCenterDefined*>(&m)) {
    unchanged = SameAs(work_centers_, std::make_pair(w->facility(), w->work_center()), m);
  } else if (auto* u = dynamic_cast<const ev1::WorkUnitDefined*>(&m)) {
    unchanged = SameAs(work_units_, std::make_pair(u->facility(), u->work_unit()), m);
  } else if (auto* p = dynamic_cast<const ev1::ProductDefined*>(&m)) {
    unchanged = SameAs(products_, p->product(), m);
  } else if (auto* g = dynamic_cast<const ev1::RoleGranted*>(&m)) {
    unchanged = access_.Has(*BindingOf(g->subject(), g->role(), g->scope()));
  } else if (auto* r = dynamic_cast<const ev1::RoleRevoked*>(&m)) {
    unchanged = !access_.Has(*BindingOf(r->subject(), r->role(), r->scope()));
  }
  if (unchanged) return std::vector<ModelEvent>{};
  return std::vector<ModelEvent>{EventOf(m)};
}

absl::StatusOr<std::vector<ModelEvent>> EnterpriseModel::DecideFacility(
    const ev1::FacilityDefined& f, absl::Time now) const {
  auto it = facilities_.find(f.facility());
  if (it == facilities_.end()) return std::vector<ModelEvent>{EventOf(f)};
  const FacilityInfo& info = it->second;
  ev1::FacilityDefined desired = f;
  if (SameCalendar(info.definition.calendar(), f.calendar())) {
    // The calendar stays as it is, with the day its last change took effect.
    desired.mutable_calendar()->set_effective_from(info.definition.calendar().effective_from());
    if (desired.SerializeAsString() == info.definition.SerializeAsString()) {
      return std::vector<ModelEvent>{};
    }
    return std::vector<ModelEvent>{EventOf(desired)};
  }
  const std::string name = absl::StrCat("facility '", f.facility(), "': calendar");
  if (info.calendar == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(info.calendar_error, "; fix that before changing the calendar"));
  }
  if (f.calendar().effective_from().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " changes need effective_from (YYYY-MM-DD): the first production day of the new "
              "calendar; days before it keep the calendar they had"));
  }
  TAKT_ASSIGN_OR_RETURN(absl::CivilDay day, ParseDay(f.calendar().effective_from()));
  TAKT_ASSIGN_OR_RETURN(kpi::FacilityCalendar next, MakeCalendar(f.calendar()));
  auto changed = info.calendar->ChangedFrom(day, next.spec());
  if (!changed.ok()) return absl::InvalidArgumentError(absl::StrCat(name, ": ", changed.status().message()));
  const absl::Time takes_effect = changed->LatestChange();
  if (takes_effect < now + kCalendarNotice) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ".effective_from: ", f.calendar().effective_from(), " starts at ",
        absl::FormatTime(takes_effect), "; a calendar change takes effect from a production day "
        "that starts at least ", absl::FormatDuration(kCalendarNotice),
        " from now (history keeps the calendar it was recorded under)"));
  }
  return std::vector<ModelEvent>{EventOf(f)};
}

absl::Status EnterpriseModel::Apply(const ModelEvent& event) {
  auto parse = [&](google::protobuf::Message& m) -> absl::Status {
    if (!m.ParseFromString(event.payload)) {
      return absl::DataLossError(absl::StrCat(event.type, ": payload does not decode"));
    }
    return Validate(m, /*recorded=*/true);
  };
  if (event.type == ev1::RegionDefined::descriptor()->full_name()) {
    ev1::RegionDefined r;
    TAKT_RETURN_IF_ERROR(parse(r));
    regions_[r.region()] = r;
  } else if (event.type == ev1::FacilityDefined::descriptor()->full_name()) {
    ev1::FacilityDefined f;
    TAKT_RETURN_IF_ERROR(parse(f));
    FacilityInfo& info = facilities_[f.facility()];
    const bool same_calendar = info.calendar && SameCalendar(info.definition.calendar(), f.calendar());
    absl::StatusOr<kpi::FacilityCalendar> built = absl::UnknownError("not built");
    if (!same_calendar) built = MakeCalendar(f.calendar());
    if (!same_calendar && !built.ok()) {
      // Recorded, so valid when it was decided: this machine lacks the zone.
      if (info.calendar) retired_calendars_.push_back(std::move(info.calendar));
      info.calendar_error = absl::StrCat(
          "facility '", f.facility(), "': its calendar cannot be built on this machine (",
          built.status().message(), "); install or upgrade tzdata");
    } else if (!same_calendar) {
      info.calendar_error.clear();
      std::shared_ptr<const kpi::FacilityCalendar> replaced =
          std::make_shared<const kpi::FacilityCalendar>(*std::move(built));
      if (info.calendar) {
        // Effective-dated: the new calendar from its first day on. (Logs
        // written before calendars were effective-dated carry no day: the
        // new calendar then replaces the old one outright, as it did.)
        auto day = DayOf(f.calendar().effective_from(), /*recorded=*/true);
        if (day.ok()) {
          auto changed = info.calendar->ChangedFrom(*day, replaced->spec());
          if (changed.ok()) replaced = std::make_shared<const kpi::FacilityCalendar>(*std::move(changed));
        }
        retired_calendars_.push_back(std::move(info.calendar));
      }
      info.calendar = std::move(replaced);
    }
    info.definition = f;
  } else if (event.type == ev1::FacilityMoved::descriptor()->full_name()) {
    ev1::FacilityMoved mv;
    TAKT_RETURN_IF_ERROR(parse(mv));
    facilities_[mv.facility()].regions[*DayOf(mv.effective_from(), /*recorded=*/true)] = mv.region();
  } else if (event.type == ev1::AreaDefined::descriptor()->full_name()) {
    ev1::AreaDefined a;
    TAKT_RETURN_IF_ERROR(parse(a));
    areas_[{a.facility(), a.area()}] = a;
  } else if (event.type == ev1::WorkCenterDefined::descriptor()->full_name()) {
    ev1::WorkCenterDefined w;
    TAKT_RETURN_IF_ERROR(parse(w));
    work_centers_[{w.facility(), w.work_center()}] = w;
  } else if (event.type == ev1::WorkUnitDefined::descriptor()->full_name()) {
    ev1::WorkUnitDefined u;
    TAKT_RETURN_IF_ERROR(parse(u));
    work_units_[{u.facility(), u.work_unit()}] = u;
  } else if (event.type == ev1::ProductDefined::descriptor()->full_name()) {
    ev1::ProductDefined p;
    TAKT_RETURN_IF_ERROR(parse(p));
    products_[p.product()] = p;
  } else if (event.type == ev1::RoleGranted::descriptor()->full_name()) {
    ev1::RoleGranted g;
    TAKT_RETURN_IF_ERROR(parse(g));
    access_.Grant(*BindingOf(g.subject(), g.role(), g.scope()));
  } else if (event.type == ev1::RoleRevoked::descriptor()->full_name()) {
    ev1::RoleRevoked r;
    TAKT_RETURN_IF_ERROR(parse(r));
    access_.Revoke(*BindingOf(r.subject(), r.role(), r.scope()));
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown enterprise event type ", event.type));
  }
  return absl::OkStatus();
}

const FacilityInfo* EnterpriseModel::Facility(const std::string& facility) const {
  auto it = facilities_.find(facility);
  return it == facilities_.end() ? nullptr : &it->second;
}

const kpi::FacilityCalendar* EnterpriseModel::Calendar(const std::string& facility) const {
  const FacilityInfo* f = Facility(facility);
  return f == nullptr ? nullptr : f->calendar.get();
}

absl::StatusOr<const kpi::FacilityCalendar*> EnterpriseModel::CalendarOrError(
    const std::string& facility) const {
  const FacilityInfo* f = Facility(facility);
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("facility '", facility, "' is not defined"));
  if (f->calendar == nullptr) return WithReason(absl::FailedPreconditionError(f->calendar_error), "TIME_ZONE_UNAVAILABLE");
  return f->calendar.get();
}

std::optional<std::string> EnterpriseModel::RegionNow(const std::string& facility) const {
  const FacilityInfo* f = Facility(facility);
  if (f == nullptr || f->regions.empty()) return std::nullopt;
  auto it = f->regions.upper_bound(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()));
  if (it == f->regions.begin()) return std::nullopt;
  return std::prev(it)->second;
}

bool EnterpriseModel::Allows(const std::string& subject, auth::Permission permission,
                             const auth::Scope& target) const {
  return access_.Allows(subject, permission, target,
                        [this](const std::string& facility) { return RegionNow(facility); });
}

std::vector<std::string> EnterpriseModel::Facilities() const {
  std::vector<std::string> out;
  for (const auto& [id, info] : facilities_) out.push_back(id);
  return out;
}

std::vector<std::string> EnterpriseModel::Regions() const {
  std::vector<std::string> out;
  for (const auto& [id, r] : regions_) out.push_back(id);
  return out;
}

std::optional<std::string> EnterpriseModel::RegionOf(const std::string& facility,
                                                     absl::CivilDay day) const {
  const FacilityInfo* f = Facility(facility);
  if (f == nullptr) return std::nullopt;
  auto it = f->regions.upper_bound(day);
  if (it == f->regions.begin()) return std::nullopt;
  return std::prev(it)->second;
}

std::vector<std::pair<absl::CivilDay, absl::CivilDay>> EnterpriseModel::DaysInRegion(
    const std::string& facility, const std::string& region, absl::CivilDay from,
    absl::CivilDay to) const {
  std::vector<std::pair<absl::CivilDay, absl::CivilDay>> out;
  const FacilityInfo* f = Facility(facility);
  if (f == nullptr || from > to) return out;
  for (auto it = f->regions.begin(); it != f->regions.end(); ++it) {
    if (it->second != region) continue;
    absl::CivilDay start = std::max(from, it->first);
    auto next = std::next(it);
    absl::CivilDay end = next == f->regions.end() ? to : std::min(to, next->first - 1);
    if (start <= end) out.emplace_back(start, end);
  }
  return out;
}

std::vector<std::string> EnterpriseModel::WorkUnits(const std::string& facility,
                                                    const std::string& area,
                                                    const std::string& work_center) const {
  std::vector<std::string> out;
  for (auto it = work_units_.lower_bound({facility, ""});
       it != work_units_.end() && it->first.first == facility; ++it) {
    const std::string& wc = it->second.work_center();
    if (!work_center.empty() && wc != work_center) continue;
    if (!area.empty()) {
      auto w = work_centers_.find({facility, wc});
      if (w == work_centers_.end() || w->second.area() != area) continue;
    }
    out.push_back(it->first.second);
  }
  return out;
}

bool EnterpriseModel::HasArea(const std::string& facility, const std::string& area) const {
  return areas_.count({facility, area}) > 0;
}
bool EnterpriseModel::HasWorkCenter(const std::string& facility, const std::string& wc) const {
  return work_centers_.count({facility, wc}) > 0;
}
bool EnterpriseModel::HasWorkUnit(const std::string& facility, const std::string& unit) const {
  return work_units_.count({facility, unit}) > 0;
}

std::optional<absl::Duration> EnterpriseModel::PlannedRunTime(const std::string& product) const {
  auto it = products_.find(product);
  if (it == products_.end()) return std::nullopt;
  return absl::Microseconds(it->second.planned_run_time_per_item_us());
}

}  // namespace takt::model
