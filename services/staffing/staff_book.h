// File: staff_book.h
// -----------------------------------------------------------------------------
// The staffing record of one facility (stream F.staff): people (personal
// data only as sealed values), the qualification catalogue, certificates and
// training, station requirements, the roster, absences, evaluations and
// safety incidents with their corrective actions. Pure: Apply folds an
// event; the Decide* functions turn a command (personal data already
// sealed) into events against a state, so every guard is tested without a
// server, a key store or a log.
//
// Qualified assignment: a person assigned to a station on a shift must hold
// every qualification the station requires for that shift with a
// certificate valid on that production day (issued <= day <= expires, not
// revoked from a day <= day). Otherwise the assignment is refused naming
// each missing or expired certificate, unless a supervisor overrides it with
// a reason (recorded with what was missing; the person then counts as
// assigned but not qualified).
//
// Coverage: for each (day, shift, station) the record keeps the figures it
// last recorded (required, assigned, qualified); a decision that changes
// them records CoverageChanged with the new and previous figures, which the
// rollups fold without state.
#ifndef TAKT_SERVICES_STAFFING_STAFF_BOOK_H_
#define TAKT_SERVICES_STAFFING_STAFF_BOOK_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/es/aggregate_store.h"
#include "libs/es/event.h"
#include "libs/kpi/calendar.h"
#include "takt/staffing/v1/events.pb.h"
#include "takt/staffing/v1/staffing_service.pb.h"

namespace takt::staffing {

// OSHA caps the days counted for one case at 180 (29 CFR 1904.7(b)(3)(vii)).
inline constexpr uint32_t kMaxCaseDays = 180;
// Plain-text reasons and descriptions.
inline constexpr size_t kMaxReasonText = 500;
inline constexpr int kMaxPublishDays = 400;

struct Certificate {
  v1::CertificationGranted granted;
  std::optional<absl::CivilDay> revoked_from;
};

struct Person {
  v1::PersonRegistered registered;
  bool erased = false;
  std::string erasure_reason;
  std::vector<Certificate> certificates;  // in grant order
  std::vector<v1::EvaluationRecorded> evaluations;
  std::vector<std::string> incidents;
  uint32_t trainings = 0;
  uint32_t absences = 0;
};

struct Incident {
  v1::IncidentReported reported;  // classification and days: the current ones
  v1::IncidentReported original;  // as first reported (a resent report matches it)
  struct Action {
    v1::IncidentActionAssigned assigned;
    bool done = false;
  };
  std::map<std::string, Action> actions;
};

struct Coverage {
  uint32_t required = 0;
  uint32_t assigned = 0;
  uint32_t qualified = 0;
  bool operator==(const Coverage&) const = default;
};

// (production day, shift, station).
using CoverageKey = std::tuple<std::string, std::string, std::string>;

// What a decision needs from outside the record.
struct Facts {
  const kpi::FacilityCalendar* calendar = nullptr;
  // Whether a station (work unit or work center) exists in the facility.
  std::function<bool(const std::string& station)> station_exists;
  absl::Time now;
};

class StaffBook {
 public:
  absl::Status Apply(const es::Event& event);

  const Person* FindPerson(const std::string& person) const;
  const std::map<std::string, Person>& people() const { return people_; }
  const std::map<std::string, v1::QualificationDefined>& qualifications() const {
    return qualifications_;
  }
  const Incident* FindIncident(const std::string& id) const;
  // The requirement of a station on a shift (its shift's, else its every-shift one).
  const v1::StationRequirementSet* Requirement(const std::string& station,
                                               const std::string& shift) const;
  // Stations with a requirement.
  std::set<std::string> RequiredStations() const;
  // A person's assignment on a day and shift, if any.
  const v1::ShiftAssigned* AssignmentOf(const std::string& person, const std::string& day,
                                        const std::string& shift) const;
  // A person's assignments on the days in [from_day, to_day] ("" to_day: to
  // the last), in day order.
  void ForEachAssignmentOf(const std::string& person, const std::string& from_day, const std::string& to_day,
                           const std::function<void(const v1::ShiftAssigned&)>& fn) const;
  // The coverage last recorded for a station on a shift, if any.
  std::optional<Coverage> RecordedCoverage(const CoverageKey& key) const;
  // Every recorded coverage from `from_day` on.
  void ForEachRecordedCoverage(const std::string& from_day,
                               const std::function<void(const CoverageKey&, const Coverage&)>& fn) const;
  bool HasAbsence(const std::string& person, const std::string& day, const std::string& shift) const {
    return absences_.contains({person, day, shift});
  }
  bool HasTraining(const std::string& person, const std::string& course, const std::string& day) const {
    return trainings_.contains({person, course, day});
  }
  // The people assigned to a station on a shift.
  const std::set<std::string>* AssignedAt(const CoverageKey& key) const;

  // What `person` lacks on `day` for the qualifications listed: each as
  // "forklift (expired 2026-11-30)", "forklift (revoked from ...)",
  // "forklift (none)".
  std::vector<std::string> Missing(const std::string& person, absl::CivilDay day,
                                   const std::vector<std::string>& qualifications) const;
  // The station's figures now (not as recorded).
  Coverage CoverageOf(const CoverageKey& key) const;

 private:
  std::map<std::string, Person> people_;
  std::map<std::string, v1::QualificationDefined> qualifications_;
  std::map<std::pair<std::string, std::string>, v1::StationRequirementSet> requirements_;
  // The roster of one production day. Days are shared between copies of
  // the record and cloned on their first change (copy on write): the store
  // decides every command on a copy (es::AggregateStore), and a copy must
  // not cost the whole history of rosters. Copies are made and changed
  // under the store's lock, so a use count of 1 means no other copy holds
  // the day.
  struct DayRoster {
    // person -> shift -> assignment
    std::map<std::string, std::map<std::string, v1::ShiftAssigned>> by_person;
    // (shift, station) -> the people assigned
    std::map<std::pair<std::string, std::string>, std::set<std::string>> at_station;
    // (shift, station) -> the coverage last recorded
    std::map<std::pair<std::string, std::string>, Coverage> coverage;
  };
  const DayRoster* FindDay(const std::string& day) const;
  DayRoster& MutableDay(const std::string& day);
  std::map<std::string, std::shared_ptr<DayRoster>> days_;
  std::set<std::tuple<std::string, std::string, std::string>> absences_;  // person, day, shift
  std::set<std::tuple<std::string, std::string, std::string>> trainings_;  // person, course, day
  std::map<std::string, Incident> incidents_;
};

// One record command, its personal data already sealed (register_person,
// record_evaluation and report_incident arrive as sealed_person,
// sealed_evaluation and sealed_incident).
absl::StatusOr<std::vector<es::Event>> DecideStaff(const StaffBook& book, const v1::StaffCommand& c,
                                                   const Facts& facts);

// The roster request decided in order against `scratch` (each assignment
// sees the ones before it; events go through out.Emit), then the coverage
// of every station it touched. A refused assignment or unassignment is
// listed in response.problems (with every missing certificate) and decided
// no further; the caller records nothing when there is one.
absl::Status DecideRoster(StaffBook& scratch, es::Decided& out, const v1::RosterRequest& request,
                          const Facts& facts, v1::RosterResponse& response);

// The stations whose coverage a record command may change (a certificate
// granted or revoked: its holder's assignments from then on; a requirement:
// the station's recorded coverage from today on).
std::set<CoverageKey> AffectedCoverage(const StaffBook& book, const v1::StaffCommand& c,
                                       const Facts& facts);
// CoverageChanged for each key whose figures differ from those recorded.
std::vector<es::Event> CoverageEvents(const StaffBook& book, const std::set<CoverageKey>& keys,
                                      const Facts& facts);

// The erasure of a person (their key is destroyed by the caller after the
// event is durable). `sealed_fields`: how many sealed values it makes
// unreadable.
absl::StatusOr<std::vector<es::Event>> DecideErase(const StaffBook& book, const std::string& person,
                                                   const std::string& reason);
// The sealed values of a person in the record.
uint32_t SealedFieldsOf(const StaffBook& book, const std::string& person);

// Whether a class is recordable (OSHA 300 columns G..J), a DART case
// (H, I) or a days-away case (H).
bool Recordable(v1::IncidentClass c);
bool Dart(v1::IncidentClass c);

}  // namespace takt::staffing

#endif  // TAKT_SERVICES_STAFFING_STAFF_BOOK_H_
