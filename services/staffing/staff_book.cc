#include "services/staffing/staff_book.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/model/enterprise_model.h"

namespace takt::staffing {
namespace {

// Free text that is not personal data (why a certificate was revoked, a
// supervisor's override, an action's description): kept in the clear, so
// kept short; what identifies or describes a person belongs in the sealed
// fields.
absl::Status CheckReason(std::string_view field, const std::string& text) {
  if (text.size() > kMaxReasonText) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": at most ", kMaxReasonText, " bytes (", text.size(), " given)"));
  }
  return absl::OkStatus();
}

constexpr char kPrefix[] = "takt.staffing.v1.";

template <typename T>
absl::Status Parse(const es::Event& e, T& out) {
  if (!out.ParseFromString(e.payload)) {
    return absl::DataLossError(absl::StrCat(e.type, " payload does not parse"));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::CivilDay> Day(std::string_view field, const std::string& s) {
  auto d = model::ParseDay(s);
  if (!d.ok()) return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": ", d.status().message()));
  return *d;
}

// A day recorded in an event (accepted when it was written).
absl::CivilDay RecordedDay(const std::string& s) {
  auto d = model::DayOf(s, /*recorded=*/true);
  return d.ok() ? *d : absl::CivilDay();
}

std::string DayText(absl::CivilDay d) { return absl::FormatCivilTime(d); }

bool SameMessage(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

absl::Status CheckPerson(const StaffBook& book, const std::string& person) {
  TAKT_RETURN_IF_ERROR(ValidateId("person", person));
  if (book.FindPerson(person) == nullptr) {
    return absl::NotFoundError(absl::StrCat("person ", person, " is not registered in this facility"));
  }
  return absl::OkStatus();
}

absl::Status CheckStation(const Facts& facts, const std::string& station) {
  TAKT_RETURN_IF_ERROR(ValidateId("station", station));
  if (!facts.station_exists(station)) {
    return absl::NotFoundError(
        absl::StrCat("station ", station, " is neither a work unit nor a work center of this facility"));
  }
  return absl::OkStatus();
}

absl::Status CheckShiftName(const Facts& facts, const std::string& shift) {
  for (const auto& s : facts.calendar->spec().shifts) {
    if (s.name == shift) return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("the facility's calendar has no shift '", shift, "'"));
}

std::vector<es::Event> One(const google::protobuf::Message& m) { return {es::EventOf(m)}; }

}  // namespace

bool Recordable(v1::IncidentClass c) {
  return c == v1::OTHER_RECORDABLE || c == v1::JOB_TRANSFER_OR_RESTRICTION ||
         c == v1::DAYS_AWAY || c == v1::DEATH;
}
bool Dart(v1::IncidentClass c) { return c == v1::JOB_TRANSFER_OR_RESTRICTION || c == v1::DAYS_AWAY; }

// ---- The fold ---------------------------------------------------------------

absl::Status StaffBook::Apply(const es::Event& e) {
  if (e.type.rfind(kPrefix, 0) != 0) return absl::OkStatus();
  const std::string type = e.type.substr(sizeof(kPrefix) - 1);
  if (type == "PersonRegistered") {
    v1::PersonRegistered r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    people_[r.person()].registered = std::move(r);
  } else if (type == "PersonErased") {
    v1::PersonErased r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    Person& p = people_[r.person()];
    p.erased = true;
    p.erasure_reason = r.reason();
  } else if (type == "QualificationDefined") {
    v1::QualificationDefined r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    qualifications_[r.qualification()] = std::move(r);
  } else if (type == "CertificationGranted") {
    v1::CertificationGranted r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    auto& certs = people_[r.person()].certificates;
    auto it = std::find_if(certs.begin(), certs.end(), [&](const Certificate& c) {
      return c.granted.qualification() == r.qualification() && c.granted.certificate() == r.certificate();
    });
    if (it == certs.end()) {
      certs.push_back({std::move(r), std::nullopt});
    } else {
      it->granted = std::move(r);
      it->revoked_from.reset();
    }
  } else if (type == "CertificationRevoked") {
    v1::CertificationRevoked r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    for (auto& c : people_[r.person()].certificates) {
      if (c.granted.qualification() == r.qualification() && c.granted.certificate() == r.certificate()) {
        c.revoked_from = RecordedDay(r.effective());
      }
    }
  } else if (type == "TrainingRecorded") {
    v1::TrainingRecorded r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    if (trainings_.insert({r.person(), r.course(), r.day()}).second) ++people_[r.person()].trainings;
  } else if (type == "StationRequirementSet") {
    v1::StationRequirementSet r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    const auto key = std::make_pair(r.station(), r.shift());
    if (r.min_people() == 0 && r.qualifications().empty()) {
      requirements_.erase(key);
    } else {
      requirements_[key] = std::move(r);
    }
  } else if (type == "CoverageChanged") {
    v1::CoverageChanged r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    MutableDay(r.day()).coverage[{r.shift(), r.station()}] = {r.required(), r.assigned(), r.qualified()};
  } else if (type == "ShiftAssigned") {
    v1::ShiftAssigned r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    DayRoster& day = MutableDay(r.day());
    if (!r.station().empty()) day.at_station[{r.shift(), r.station()}].insert(r.person());
    const std::string person = r.person(), shift = r.shift();
    day.by_person[person][shift] = std::move(r);
  } else if (type == "ShiftUnassigned") {
    v1::ShiftUnassigned r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    DayRoster& day = MutableDay(r.day());
    if (auto mine = day.by_person.find(r.person()); mine != day.by_person.end()) {
      mine->second.erase(r.shift());
      if (mine->second.empty()) day.by_person.erase(mine);
    }
    if (!r.station().empty()) {
      auto it = day.at_station.find({r.shift(), r.station()});
      if (it != day.at_station.end()) {
        it->second.erase(r.person());
        if (it->second.empty()) day.at_station.erase(it);
      }
    }
  } else if (type == "AbsenceRecorded") {
    v1::AbsenceRecorded r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    absences_.insert({r.person(), r.day(), r.shift()});
    ++people_[r.person()].absences;
  } else if (type == "EvaluationRecorded") {
    v1::EvaluationRecorded r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    people_[r.person()].evaluations.push_back(std::move(r));
  } else if (type == "IncidentReported") {
    v1::IncidentReported r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    if (!r.person().empty()) people_[r.person()].incidents.push_back(r.incident());
    const std::string id = r.incident();
    incidents_[id].original = r;
    incidents_[id].reported = std::move(r);
  } else if (type == "IncidentReclassified") {
    v1::IncidentReclassified r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    auto& rep = incidents_[r.incident()].reported;
    rep.set_classification(r.classification());
    rep.set_days_away(r.days_away());
    rep.set_days_restricted(r.days_restricted());
  } else if (type == "IncidentActionAssigned") {
    v1::IncidentActionAssigned r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    const std::string action = r.action();
    incidents_[r.incident()].actions[action].assigned = std::move(r);
  } else if (type == "IncidentActionCompleted") {
    v1::IncidentActionCompleted r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    incidents_[r.incident()].actions[r.action()].done = true;
  }
  return absl::OkStatus();
}

// ---- Queries ------------------------------------------------------------------

const Person* StaffBook::FindPerson(const std::string& person) const {
  auto it = people_.find(person);
  return it == people_.end() || it->second.registered.person().empty() ? nullptr : &it->second;
}

const Incident* StaffBook::FindIncident(const std::string& id) const {
  auto it = incidents_.find(id);
  return it == incidents_.end() ? nullptr : &it->second;
}

const v1::StationRequirementSet* StaffBook::Requirement(const std::string& station,
                                                        const std::string& shift) const {
  auto it = requirements_.find({station, shift});
  if (it == requirements_.end()) it = requirements_.find({station, ""});
  return it == requirements_.end() ? nullptr : &it->second;
}

std::set<std::string> StaffBook::RequiredStations() const {
  std::set<std::string> out;
  for (const auto& [key, r] : requirements_) out.insert(key.first);
  return out;
}

const StaffBook::DayRoster* StaffBook::FindDay(const std::string& day) const {
  auto it = days_.find(day);
  return it == days_.end() ? nullptr : it->second.get();
}

StaffBook::DayRoster& StaffBook::MutableDay(const std::string& day) {
  std::shared_ptr<DayRoster>& d = days_[day];
  if (d == nullptr) {
    d = std::make_shared<DayRoster>();
  } else if (d.use_count() > 1) {
    d = std::make_shared<DayRoster>(*d);  // shared with another copy: clone
  }
  return *d;
}

const v1::ShiftAssigned* StaffBook::AssignmentOf(const std::string& person, const std::string& day,
                                                 const std::string& shift) const {
  const DayRoster* d = FindDay(day);
  if (d == nullptr) return nullptr;
  auto p = d->by_person.find(person);
  if (p == d->by_person.end()) return nullptr;
  auto a = p->second.find(shift);
  return a == p->second.end() ? nullptr : &a->second;
}

void StaffBook::ForEachAssignmentOf(const std::string& person, const std::string& from_day,
                                    const std::string& to_day,
                                    const std::function<void(const v1::ShiftAssigned&)>& fn) const {
  for (auto it = days_.lower_bound(from_day); it != days_.end(); ++it) {
    if (!to_day.empty() && it->first > to_day) break;
    auto p = it->second->by_person.find(person);
    if (p == it->second->by_person.end()) continue;
    for (const auto& [shift, a] : p->second) fn(a);
  }
}

std::optional<Coverage> StaffBook::RecordedCoverage(const CoverageKey& key) const {
  const DayRoster* d = FindDay(std::get<0>(key));
  if (d == nullptr) return std::nullopt;
  auto it = d->coverage.find({std::get<1>(key), std::get<2>(key)});
  if (it == d->coverage.end()) return std::nullopt;
  return it->second;
}

void StaffBook::ForEachRecordedCoverage(
    const std::string& from_day, const std::function<void(const CoverageKey&, const Coverage&)>& fn) const {
  for (auto it = days_.lower_bound(from_day); it != days_.end(); ++it) {
    for (const auto& [key, c] : it->second->coverage) fn({it->first, key.first, key.second}, c);
  }
}

const std::set<std::string>* StaffBook::AssignedAt(const CoverageKey& key) const {
  const DayRoster* d = FindDay(std::get<0>(key));
  if (d == nullptr) return nullptr;
  auto it = d->at_station.find({std::get<1>(key), std::get<2>(key)});
  return it == d->at_station.end() ? nullptr : &it->second;
}

std::vector<std::string> StaffBook::Missing(const std::string& person, absl::CivilDay day,
                                            const std::vector<std::string>& qualifications) const {
  std::vector<std::string> missing;
  const Person* p = FindPerson(person);
  for (const std::string& q : qualifications) {
    const Certificate* best = nullptr;  // the one that says most about why not
    bool valid = false;
    if (p != nullptr) {
      for (const Certificate& c : p->certificates) {
        if (c.granted.qualification() != q) continue;
        const absl::CivilDay issued = RecordedDay(c.granted.issued());
        const bool expired = !c.granted.expires().empty() && RecordedDay(c.granted.expires()) < day;
        const bool revoked = c.revoked_from && *c.revoked_from <= day;
        if (issued <= day && !expired && !revoked) {
          valid = true;
          break;
        }
        if (best == nullptr || c.granted.expires() > best->granted.expires()) best = &c;
      }
    }
    if (valid) continue;
    if (best == nullptr) {
      missing.push_back(absl::StrCat(q, " (none)"));
    } else if (best->revoked_from && *best->revoked_from <= day) {
      missing.push_back(absl::StrCat(q, " (certificate ", best->granted.certificate(), " revoked from ",
                                     DayText(*best->revoked_from), ")"));
    } else if (RecordedDay(best->granted.issued()) > day) {
      missing.push_back(absl::StrCat(q, " (certificate ", best->granted.certificate(),
                                     " issued only on ", best->granted.issued(), ")"));
    } else {
      missing.push_back(absl::StrCat(q, " (certificate ", best->granted.certificate(), " expired ",
                                     best->granted.expires(), ")"));
    }
  }
  return missing;
}

Coverage StaffBook::CoverageOf(const CoverageKey& key) const {
  Coverage c;
  const auto& [day_text, shift, station] = key;
  const v1::StationRequirementSet* req = Requirement(station, shift);
  if (req != nullptr) c.required = req->min_people();
  const std::set<std::string>* assigned = AssignedAt(key);
  if (assigned == nullptr) return c;
  const std::vector<std::string> quals =
      req == nullptr ? std::vector<std::string>{}
                     : std::vector<std::string>(req->qualifications().begin(), req->qualifications().end());
  const absl::CivilDay day = RecordedDay(day_text);
  for (const std::string& person : *assigned) {
    if (HasAbsence(person, day_text, shift)) continue;  // rostered, not there: no crew
    ++c.assigned;
    if (Missing(person, day, quals).empty()) ++c.qualified;
  }
  return c;
}

// ---- Decisions -----------------------------------------------------------------

namespace {

absl::StatusOr<std::vector<es::Event>> DecideCertification(const StaffBook& book,
                                                           v1::CertificationGranted g) {
  TAKT_RETURN_IF_ERROR(CheckPerson(book, g.person()));
  TAKT_RETURN_IF_ERROR(ValidateId("qualification", g.qualification()));
  TAKT_RETURN_IF_ERROR(ValidateId("certificate", g.certificate()));
  auto q = book.qualifications().find(g.qualification());
  if (q == book.qualifications().end()) {
    return absl::NotFoundError(absl::StrCat("qualification ", g.qualification(), " is not defined"));
  }
  TAKT_ASSIGN_OR_RETURN(absl::CivilDay issued, Day("issued", g.issued()));
  if (g.expires().empty() && q->second.validity_days() > 0) {
    g.set_expires(DayText(issued + q->second.validity_days() - 1));
  }
  if (!g.expires().empty()) {
    TAKT_ASSIGN_OR_RETURN(absl::CivilDay expires, Day("expires", g.expires()));
    if (expires < issued) return absl::InvalidArgumentError("expires: before the day it was issued");
  }
  for (const Certificate& c : book.FindPerson(g.person())->certificates) {
    if (c.granted.qualification() == g.qualification() && c.granted.certificate() == g.certificate() &&
        SameMessage(c.granted, g) && !c.revoked_from) {
      return std::vector<es::Event>{};
    }
  }
  return One(g);
}

absl::StatusOr<std::vector<es::Event>> DecideIncident(const StaffBook& book, const Facts& facts,
                                                      const v1::IncidentReported& r) {
  TAKT_RETURN_IF_ERROR(ValidateId("incident", r.incident()));
  if (!r.person().empty()) TAKT_RETURN_IF_ERROR(CheckPerson(book, r.person()));
  if (!r.station().empty()) TAKT_RETURN_IF_ERROR(CheckStation(facts, r.station()));
  if (!r.shift().empty()) TAKT_RETURN_IF_ERROR(CheckShiftName(facts, r.shift()));
  if (r.classification() == v1::INCIDENT_CLASS_UNSPECIFIED || !v1::IncidentClass_IsValid(r.classification())) {
    return absl::InvalidArgumentError(
        "classification: one of NEAR_MISS, FIRST_AID, OTHER_RECORDABLE, JOB_TRANSFER_OR_RESTRICTION, "
        "DAYS_AWAY, DEATH");
  }
  if (!r.has_occurred()) return absl::InvalidArgumentError("occurred: required");
  if (ToTime(r.occurred()) > facts.now + absl::Minutes(5)) {
    return absl::InvalidArgumentError("occurred: in the future");
  }
  if (r.days_away() > 0 && r.classification() != v1::DAYS_AWAY) {
    return absl::InvalidArgumentError("days_away: only a DAYS_AWAY case has days away");
  }
  if (r.days_restricted() > 0 && !Dart(r.classification())) {
    return absl::InvalidArgumentError(
        "days_restricted: only a DAYS_AWAY or JOB_TRANSFER_OR_RESTRICTION case has restricted days");
  }
  if (r.days_away() > kMaxCaseDays || r.days_restricted() > kMaxCaseDays) {
    return absl::InvalidArgumentError("days: at most 180 per case (29 CFR 1904.7(b)(3)(vii))");
  }
  if (const Incident* known = book.FindIncident(r.incident()); known != nullptr) {
    if (SameMessage(known->original, r)) return std::vector<es::Event>{};
    return absl::AlreadyExistsError(absl::StrCat(
        "incident ", r.incident(), " is already reported; reclassify it, or report under a new id"));
  }
  return One(r);
}

}  // namespace

absl::StatusOr<std::vector<es::Event>> DecideStaff(const StaffBook& book, const v1::StaffCommand& c,
                                                   const Facts& facts) {
  if (c.has_sealed_person()) {
    const v1::PersonRegistered& r = c.sealed_person();
    TAKT_RETURN_IF_ERROR(ValidateId("person", r.person()));
    if (!r.home_station().empty()) TAKT_RETURN_IF_ERROR(CheckStation(facts, r.home_station()));
    if (const Person* p = book.FindPerson(r.person()); p != nullptr) {
      if (p->erased) {
        return absl::FailedPreconditionError(
            absl::StrCat("person ", r.person(), " was erased; register the person under a new id"));
      }
      if (SameMessage(p->registered, r)) return std::vector<es::Event>{};
    }
    return One(r);
  }
  if (c.has_sealed_evaluation()) {
    const v1::EvaluationRecorded& r = c.sealed_evaluation();
    TAKT_RETURN_IF_ERROR(CheckPerson(book, r.person()));
    if (r.rating() < 1 || r.rating() > 5) return absl::InvalidArgumentError("rating: 1 to 5");
    if (r.period().empty() || r.period().size() > 32) {
      return absl::InvalidArgumentError("period: required, at most 32 characters (\"2026-Q4\")");
    }
    if (!r.evaluator().empty()) TAKT_RETURN_IF_ERROR(ValidateId("evaluator", r.evaluator()));
    for (const auto& e : book.FindPerson(r.person())->evaluations) {
      if (SameMessage(e, r)) return std::vector<es::Event>{};
    }
    return One(r);
  }
  if (c.has_sealed_incident()) return DecideIncident(book, facts, c.sealed_incident());
  switch (c.command_case()) {
    case v1::StaffCommand::kDefineQualification: {
      const auto& r = c.define_qualification();
      TAKT_RETURN_IF_ERROR(ValidateId("qualification", r.qualification()));
      if (r.name().empty()) return absl::InvalidArgumentError("name: required");
      if (r.validity_days() > 3660) return absl::InvalidArgumentError("validity_days: at most 3660");
      auto it = book.qualifications().find(r.qualification());
      if (it != book.qualifications().end() && SameMessage(it->second, r)) return std::vector<es::Event>{};
      return One(r);
    }
    case v1::StaffCommand::kGrantCertification:
      return DecideCertification(book, c.grant_certification());
    case v1::StaffCommand::kRevokeCertification: {
      const auto& r = c.revoke_certification();
      TAKT_RETURN_IF_ERROR(CheckPerson(book, r.person()));
      TAKT_ASSIGN_OR_RETURN(absl::CivilDay effective, Day("effective", r.effective()));
      if (r.reason().empty()) return absl::InvalidArgumentError("reason: required to revoke a certificate");
      TAKT_RETURN_IF_ERROR(CheckReason("reason", r.reason()));
      for (const Certificate& cert : book.FindPerson(r.person())->certificates) {
        if (cert.granted.qualification() != r.qualification() || cert.granted.certificate() != r.certificate()) {
          continue;
        }
        if (cert.revoked_from && *cert.revoked_from <= effective) return std::vector<es::Event>{};
        return One(r);
      }
      return absl::NotFoundError(absl::StrCat("person ", r.person(), " holds no certificate ",
                                              r.certificate(), " for ", r.qualification()));
    }
    case v1::StaffCommand::kRecordTraining: {
      const auto& r = c.record_training();
      TAKT_RETURN_IF_ERROR(CheckPerson(book, r.person()));
      TAKT_RETURN_IF_ERROR(ValidateId("course", r.course()));
      TAKT_RETURN_IF_ERROR(Day("day", r.day()).status());
      if (!(r.hours() > 0 && r.hours() <= 24)) return absl::InvalidArgumentError("hours: more than 0, at most 24");
      if (!r.qualification().empty() && !book.qualifications().contains(r.qualification())) {
        return absl::NotFoundError(absl::StrCat("qualification ", r.qualification(), " is not defined"));
      }
      // One record per person, course and day: the same again changes nothing.
      if (book.HasTraining(r.person(), r.course(), r.day())) return std::vector<es::Event>{};
      return One(r);
    }
    case v1::StaffCommand::kSetRequirement: {
      const auto& r = c.set_requirement();
      TAKT_RETURN_IF_ERROR(CheckStation(facts, r.station()));
      if (!r.shift().empty()) TAKT_RETURN_IF_ERROR(CheckShiftName(facts, r.shift()));
      for (const auto& q : r.qualifications()) {
        if (!book.qualifications().contains(q)) {
          return absl::NotFoundError(absl::StrCat("qualification ", q, " is not defined"));
        }
      }
      if (r.min_people() > 1000) return absl::InvalidArgumentError("min_people: at most 1000");
      const v1::StationRequirementSet* now = book.Requirement(r.station(), r.shift());
      if (now != nullptr && now->shift() == r.shift() && SameMessage(*now, r)) return std::vector<es::Event>{};
      return One(r);
    }
    case v1::StaffCommand::kRecordAbsence: {
      const auto& r = c.record_absence();
      TAKT_RETURN_IF_ERROR(CheckPerson(book, r.person()));
      TAKT_ASSIGN_OR_RETURN(absl::CivilDay day, Day("day", r.day()));
      if (r.kind() != v1::PLANNED && r.kind() != v1::UNPLANNED) {
        return absl::InvalidArgumentError("kind: PLANNED or UNPLANNED");
      }
      auto shift = facts.calendar->Shift(day, r.shift());
      if (!shift.ok()) return absl::NotFoundError(std::string(shift.status().message()));
      if (!r.reason().empty()) {
        return absl::InvalidArgumentError("record_absence: the reason must be sealed first (Staffing seals it)");
      }
      const v1::ShiftAssigned* rostered = book.AssignmentOf(r.person(), DayText(day), r.shift());
      if (rostered == nullptr) {
        return absl::FailedPreconditionError(absl::StrCat(
            r.person(), " is not rostered on ", DayText(day), " shift ", r.shift(),
            ": an absence is from a rostered shift (assign first)"));
      }
      v1::AbsenceRecorded a;
      a.set_person(r.person());
      a.set_day(DayText(day));
      a.set_shift(r.shift());
      a.set_kind(r.kind());
      if (r.has_sealed_reason()) *a.mutable_reason() = r.sealed_reason();
      a.set_station(rostered->station());
      *a.mutable_start() = ToProto(shift->interval.start);
      *a.mutable_end() = ToProto(shift->interval.end);
      if (book.HasAbsence(r.person(), a.day(), r.shift())) return std::vector<es::Event>{};
      return One(a);
    }
    case v1::StaffCommand::kReclassifyIncident: {
      const auto& r = c.reclassify_incident();
      const Incident* known = book.FindIncident(r.incident());
      if (known == nullptr) return absl::NotFoundError(absl::StrCat("incident ", r.incident(), " is not reported"));
      if (r.reason().empty()) return absl::InvalidArgumentError("reason: required to reclassify");
      TAKT_RETURN_IF_ERROR(CheckReason("reason", r.reason()));
      v1::IncidentReported check = known->reported;
      check.set_classification(r.classification());
      check.set_days_away(r.days_away());
      check.set_days_restricted(r.days_restricted());
      check.set_incident(r.incident());
      StaffBook none;  // checks the figures as for a new report
      v1::IncidentReported bare = check;
      bare.clear_person();
      bare.clear_station();
      bare.clear_shift();
      TAKT_RETURN_IF_ERROR(DecideIncident(none, facts, bare).status());
      const auto& old = known->reported;
      if (old.classification() == r.classification() && old.days_away() == r.days_away() &&
          old.days_restricted() == r.days_restricted()) {
        return std::vector<es::Event>{};
      }
      v1::IncidentReclassified e;
      e.set_incident(r.incident());
      e.set_station(old.station());
      *e.mutable_occurred() = old.occurred();
      e.set_classification(r.classification());
      e.set_days_away(r.days_away());
      e.set_days_restricted(r.days_restricted());
      e.set_previous_classification(old.classification());
      e.set_previous_days_away(old.days_away());
      e.set_previous_days_restricted(old.days_restricted());
      e.set_reason(r.reason());
      return One(e);
    }
    case v1::StaffCommand::kAssignIncidentAction: {
      const auto& r = c.assign_incident_action();
      const Incident* known = book.FindIncident(r.incident());
      if (known == nullptr) return absl::NotFoundError(absl::StrCat("incident ", r.incident(), " is not reported"));
      TAKT_RETURN_IF_ERROR(ValidateId("action", r.action()));
      if (r.description().empty()) return absl::InvalidArgumentError("description: required");
      TAKT_RETURN_IF_ERROR(CheckReason("description", r.description()));
      if (!r.owner().empty()) TAKT_RETURN_IF_ERROR(ValidateId("owner", r.owner()));
      TAKT_RETURN_IF_ERROR(Day("due", r.due()).status());
      auto it = known->actions.find(r.action());
      if (it != known->actions.end()) {
        if (SameMessage(it->second.assigned, r)) return std::vector<es::Event>{};
        return absl::AlreadyExistsError(absl::StrCat("action ", r.action(), " of incident ", r.incident(),
                                                     " exists with other content"));
      }
      return One(r);
    }
    case v1::StaffCommand::kCompleteIncidentAction: {
      const auto& r = c.complete_incident_action();
      const Incident* known = book.FindIncident(r.incident());
      if (known == nullptr) return absl::NotFoundError(absl::StrCat("incident ", r.incident(), " is not reported"));
      auto it = known->actions.find(r.action());
      if (it == known->actions.end()) {
        return absl::NotFoundError(absl::StrCat("incident ", r.incident(), " has no action ", r.action()));
      }
      if (it->second.done) return std::vector<es::Event>{};
      TAKT_ASSIGN_OR_RETURN(absl::CivilDay done, Day("completed", r.completed()));
      v1::IncidentActionCompleted e;
      e.set_incident(r.incident());
      e.set_action(r.action());
      e.set_completed(DayText(done));
      e.set_on_time(done <= RecordedDay(it->second.assigned.due()));
      return One(e);
    }
    case v1::StaffCommand::kSealedPerson:
    case v1::StaffCommand::kSealedEvaluation:
    case v1::StaffCommand::kSealedIncident:
    case v1::StaffCommand::kRegisterPerson:
    case v1::StaffCommand::kRecordEvaluation:
    case v1::StaffCommand::kReportIncident:
      return absl::InternalError("a command with personal data reached the record unsealed");
    case v1::StaffCommand::COMMAND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("an empty command");
}

std::set<CoverageKey> AffectedCoverage(const StaffBook& book, const v1::StaffCommand& c,
                                       const Facts& facts) {
  std::set<CoverageKey> out;
  auto person_from = [&](const std::string& person, const std::string& from) {
    book.ForEachAssignmentOf(person, from, "", [&](const v1::ShiftAssigned& a) {
      if (!a.station().empty()) out.insert({a.day(), a.shift(), a.station()});
    });
  };
  if (c.has_grant_certification()) person_from(c.grant_certification().person(), c.grant_certification().issued());
  if (c.has_revoke_certification()) {
    person_from(c.revoke_certification().person(), c.revoke_certification().effective());
  }
  if (c.has_record_absence()) {
    const auto& r = c.record_absence();
    if (auto day = model::ParseDay(r.day()); day.ok()) {
      const v1::ShiftAssigned* a = book.AssignmentOf(r.person(), DayText(*day), r.shift());
      if (a != nullptr && !a->station().empty()) out.insert({a->day(), a->shift(), a->station()});
    }
  }
  if (c.has_set_requirement()) {
    const std::string today = DayText(facts.calendar->ProductionDay(facts.now));
    book.ForEachRecordedCoverage(today, [&](const CoverageKey& key, const Coverage&) {
      if (std::get<2>(key) == c.set_requirement().station()) out.insert(key);
    });
  }
  return out;
}

std::vector<es::Event> CoverageEvents(const StaffBook& book, const std::set<CoverageKey>& keys,
                                      const Facts& facts) {
  std::vector<es::Event> out;
  for (const CoverageKey& key : keys) {
    const Coverage now = book.CoverageOf(key);
    const Coverage before = book.RecordedCoverage(key).value_or(Coverage{});
    if (now == before) continue;
    const auto& [day, shift, station] = key;
    v1::CoverageChanged e;
    e.set_day(day);
    e.set_shift(shift);
    e.set_station(station);
    auto instance = facts.calendar->Shift(RecordedDay(day), shift);
    if (instance.ok()) *e.mutable_shift_start() = ToProto(instance->interval.start);
    e.set_required(now.required);
    e.set_assigned(now.assigned);
    e.set_qualified(now.qualified);
    e.set_previous_required(before.required);
    e.set_previous_assigned(before.assigned);
    e.set_previous_qualified(before.qualified);
    out.push_back(es::EventOf(e));
  }
  return out;
}

absl::Status DecideRoster(StaffBook& scratch, es::Decided& out, const v1::RosterRequest& request,
                          const Facts& facts, v1::RosterResponse& response) {
  std::set<CoverageKey> touched;
  auto problem = [&](int index, const std::string& person, const std::string& reason,
                     const std::vector<std::string>& missing = {}, bool unassign = false) {
    v1::RosterProblem* p = response.add_problems();
    p->set_index(index);
    p->set_unassign(unassign);
    p->set_person(person);
    p->set_reason(reason);
    for (const auto& m : missing) p->add_missing(m);
  };
  // Unassignments first, so that one request can move a person.
  for (int i = 0; i < request.unassign_size(); ++i) {
    const v1::Unassignment& u = request.unassign(i);
    auto day = Day("day", u.day());
    const v1::ShiftAssigned* found = day.ok() ? scratch.AssignmentOf(u.person(), DayText(*day), u.shift()) : nullptr;
    if (found == nullptr) {
      problem(i, u.person(), absl::StrCat(u.person(), " is not assigned on ", u.day(), " ", u.shift()), {},
              /*unassign=*/true);
      continue;
    }
    if (absl::Status s = CheckReason("reason", u.reason()); !s.ok()) {
      problem(i, u.person(), std::string(s.message()), {}, /*unassign=*/true);
      continue;
    }
    v1::ShiftUnassigned e;
    e.set_person(u.person());
    e.set_day(found->day());
    e.set_shift(found->shift());
    e.set_station(found->station());
    *e.mutable_start() = found->start();
    *e.mutable_end() = found->end();
    e.set_reason(u.reason());
    const std::string station = found->station();
    const std::string day_text = found->day();
    TAKT_RETURN_IF_ERROR(out.Emit(scratch, es::EventOf(e)));
    response.set_unassigned(response.unassigned() + 1);
    if (!station.empty()) touched.insert({day_text, u.shift(), station});
  }
  for (int i = 0; i < request.assign_size(); ++i) {
    const v1::Assignment& a = request.assign(i);
    if (absl::Status s = CheckPerson(scratch, a.person()); !s.ok()) {
      problem(i, a.person(), std::string(s.message()));
      continue;
    }
    auto day = Day("day", a.day());
    if (!day.ok()) {
      problem(i, a.person(), std::string(day.status().message()));
      continue;
    }
    auto shift = facts.calendar->Shift(*day, a.shift());
    if (!shift.ok()) {
      problem(i, a.person(), std::string(shift.status().message()));
      continue;
    }
    if (!a.station().empty()) {
      if (absl::Status s = CheckStation(facts, a.station()); !s.ok()) {
        problem(i, a.person(), std::string(s.message()));
        continue;
      }
    }
    const std::string day_text = DayText(*day);
    if (const v1::ShiftAssigned* known = scratch.AssignmentOf(a.person(), day_text, a.shift()); known != nullptr) {
      if (known->station() == a.station()) {
        response.set_unchanged(response.unchanged() + 1);
      } else {
        problem(i, a.person(),
                absl::StrCat("already assigned to ", known->station().empty() ? "the shift" : "station " + known->station(),
                             " on ", day_text, " ", a.shift(), "; unassign first"));
      }
      continue;
    }
    std::vector<std::string> missing;
    if (!a.station().empty()) {
      if (const auto* req = scratch.Requirement(a.station(), a.shift()); req != nullptr) {
        missing = scratch.Missing(a.person(), *day,
                                  {req->qualifications().begin(), req->qualifications().end()});
      }
    }
    if (absl::Status s = CheckReason("override_reason", a.override_reason()); !s.ok()) {
      problem(i, a.person(), std::string(s.message()));
      continue;
    }
    if (!missing.empty() && a.override_reason().empty()) {
      problem(i, a.person(),
              absl::StrCat(a.person(), " is not qualified for ", a.station(), " on ", day_text, ": ",
                           absl::StrJoin(missing, ", "), " (a supervisor may override with a reason)"),
              missing);
      continue;
    }
    v1::ShiftAssigned e;
    e.set_person(a.person());
    e.set_day(day_text);
    e.set_shift(a.shift());
    e.set_station(a.station());
    *e.mutable_start() = ToProto(shift->interval.start);
    *e.mutable_end() = ToProto(shift->interval.end);
    if (!missing.empty()) {
      e.set_override_reason(a.override_reason());
      for (const auto& m : missing) e.add_missing(m);
      response.set_overrides(response.overrides() + 1);
    }
    TAKT_RETURN_IF_ERROR(out.Emit(scratch, es::EventOf(e)));
    response.set_assigned(response.assigned() + 1);
    if (!a.station().empty()) touched.insert({day_text, a.shift(), a.station()});
  }
  const std::set<std::string> stations = scratch.RequiredStations();
  int64_t published_days = 0;
  for (const v1::DayRange& range : request.publish()) {
    TAKT_ASSIGN_OR_RETURN(absl::CivilDay from, Day("publish.from", range.from()));
    TAKT_ASSIGN_OR_RETURN(absl::CivilDay to, Day("publish.to", range.to()));
    if (to < from) return absl::InvalidArgumentError("publish: to is before from");
    published_days += to - from + 1;
    if (published_days > kMaxPublishDays) {
      return absl::InvalidArgumentError(
          absl::StrCat("publish: at most ", kMaxPublishDays, " days per request, over all its ranges"));
    }
    for (absl::CivilDay d = from; d <= to; ++d) {
      for (const auto& shift : facts.calendar->SpecOn(d).shifts) {
        for (const std::string& station : stations) {
          if (scratch.Requirement(station, shift.name) != nullptr) touched.insert({DayText(d), shift.name, station});
        }
      }
    }
  }
  for (es::Event& e : CoverageEvents(scratch, touched, facts)) {
    TAKT_RETURN_IF_ERROR(out.Emit(scratch, std::move(e)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<es::Event>> DecideErase(const StaffBook& book, const std::string& person,
                                                   const std::string& reason) {
  TAKT_RETURN_IF_ERROR(CheckPerson(book, person));
  if (reason.empty()) return absl::InvalidArgumentError("reason: required (why the data is erased)");
  TAKT_RETURN_IF_ERROR(CheckReason("reason", reason));
  if (book.FindPerson(person)->erased) return std::vector<es::Event>{};
  v1::PersonErased e;
  e.set_person(person);
  e.set_reason(reason);
  e.set_sealed_fields(SealedFieldsOf(book, person));
  return One(e);
}

uint32_t SealedFieldsOf(const StaffBook& book, const std::string& person) {
  const Person* p = book.FindPerson(person);
  if (p == nullptr) return 0;
  uint32_t n = 0;
  if (!p->registered.name().ciphertext().empty()) ++n;
  if (!p->registered.contact().ciphertext().empty()) ++n;
  for (const auto& e : p->evaluations) n += e.comments().ciphertext().empty() ? 0 : 1;
  for (const auto& id : p->incidents) {
    const Incident* i = book.FindIncident(id);
    if (i != nullptr && i->reported.narrative().subject() == person &&
        !i->reported.narrative().ciphertext().empty()) {
      ++n;
    }
  }
  return n;
}

}  // namespace takt::staffing
