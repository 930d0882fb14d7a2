// File: crew.h
// -----------------------------------------------------------------------------
// Crew for finite-capacity scheduling. The staffing context records, in a
// facility's stream "<facility>.staff", what each station needs on a shift
// (StationRequirementSet: the qualifications, the minimum number of people)
// and, whenever a roster changes, how many qualified people a station has on
// a shift (CoverageChanged). Scheduling reads those two published events and
// nothing else of staffing, so it does not depend on the staffing service
// running, only on its record: on Kafka it follows the staffing topic.
//
// A shift in which a station has fewer qualified people than it requires is
// a crew gap; it closes the station's work unit (or every unit of the work
// center) for that shift. A station with a requirement and no roster for a
// shift has no crew: zero qualified people.
#ifndef TAKT_SERVICES_SCHEDULING_CREW_H_
#define TAKT_SERVICES_SCHEDULING_CREW_H_

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/plan_stream.h"
#include "libs/es/context_follower.h"
#include "libs/es/event.h"
#include "libs/eventlog/event_log.h"
#include "libs/model/enterprise_model.h"
#include "takt/staffing/v1/events.pb.h"

namespace takt::scheduling {

// What scheduling knows of a facility's crew. Pure.
class CrewFacts {
 public:
  // Folds StationRequirementSet and CoverageChanged; other events of the
  // stream are not crew facts and are skipped.
  absl::Status Apply(const es::Event& event);

  // The requirement of a station on a shift: the shift's own, else the
  // station's every-shift one (shift ""); null if none.
  const staffing::v1::StationRequirementSet* Requirement(const std::string& station,
                                                         const std::string& shift) const;
  // Qualified people last recorded on a (day, shift, station); 0 if none.
  uint32_t Qualified(const std::string& day, const std::string& shift,
                     const std::string& station) const;
  // Stations with a requirement of at least one person.
  std::vector<std::string> CrewedStations() const;

 private:
  std::map<std::pair<std::string, std::string>, staffing::v1::StationRequirementSet> requirements_;
  std::map<std::tuple<std::string, std::string, std::string>, uint32_t> qualified_;
};

// A shift in which a station's crew is short.
struct CrewGap {
  std::string station;
  std::string day;  // facility-local production day, YYYY-MM-DD
  std::string shift;
  absl::Time start;
  absl::Time end;
  uint32_t required = 0;
  uint32_t qualified = 0;
  std::vector<std::string> qualifications;
  std::vector<std::string> work_units;  // the units it closes
};

// The crew gaps of `facility` in the shifts of its calendar that overlap
// [from, to), in time order (then station). A facility without shifts has
// no crew calendar and so no gaps.
std::vector<CrewGap> CrewGaps(const CrewFacts& crew, const model::EnterpriseModel& model,
                              const std::string& facility, absl::Time from, absl::Time to);

// "station 'press' on shift A of 2026-03-02: 1 of 2 qualified (forklift)".
std::string DescribeGap(const CrewGap& gap);

// Every facility's CrewFacts, followed from the staffing context (a
// subscription: on Kafka the staffing topic): each Snapshot catches up
// first. Thread-safe.
class CrewReader {
 public:
  explicit CrewReader(eventlog::EventLog* log) : follower_(log, kStaffingContext) {}

  // A copy, for planning outside the lock.
  absl::StatusOr<CrewFacts> Snapshot(const std::string& facility) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  es::ContextFollower follower_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, CrewFacts> facilities_ ABSL_GUARDED_BY(mu_);
};

}  // namespace takt::scheduling

#endif  // TAKT_SERVICES_SCHEDULING_CREW_H_
