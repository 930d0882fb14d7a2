// File: quality_book.h
// -----------------------------------------------------------------------------
// The quality management record of one facility (stream F.qms): its
// inspection plans (versioned by effective day), the defect-code
// catalogue, the control limits approved per characteristic, and its
// nonconformance reports with their corrective and preventive actions.
// Pure: Apply folds an event; the Decide* functions turn a command into
// events against a state, so every guard is tested without a server.
//
// The NCR state machine (each step an event with actor and reason):
//   raise -> [disposition] [contain] [root cause] -> add actions (after the
//   root cause) -> complete each -> effectiveness check (after every action
//   is done) -> close (needs a disposition, a root cause, at least one
//   corrective action, all actions done and an effective check after the
//   last of them) -> reopen (only when closed; needs a reason) -> ...
// A closed NCR takes no step but reopening; an unknown one is NOT_FOUND.
#ifndef TAKT_SERVICES_QUALITY_QUALITY_BOOK_H_
#define TAKT_SERVICES_QUALITY_QUALITY_BOOK_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/es/event.h"
#include "takt/quality/v1/events.pb.h"
#include "takt/quality/v1/quality_service.pb.h"

namespace takt::quality {

// A characteristic as a plan version defines it.
struct CharacteristicAt {
  const v1::PlanVersionApplied* plan = nullptr;
  const v1::Characteristic* characteristic = nullptr;
};

struct Ncr {
  v1::NcrRaised raised;
  absl::Time opened;  // raised, or last reopened
  bool closed = false;
  absl::Time closed_at;
  v1::Disposition disposition = v1::DISPOSITION_UNSPECIFIED;
  std::string containment;
  std::string root_cause;
  struct Action {
    v1::CapaActionAdded added;
    bool done = false;
  };
  std::map<std::string, Action> actions;
  bool effective = false;  // an effective check after the last action completed
  uint32_t reopened = 0;
};

class QualityBook {
 public:
  QualityBook() = default;
  absl::Status Apply(const es::Event& event);

  // The version of `characteristic` in force on `day` (latest effective
  // day <= `day`), if any plan defines it.
  std::optional<CharacteristicAt> Find(const std::string& characteristic, absl::CivilDay day) const;
  // Its latest version, whatever the day.
  std::optional<CharacteristicAt> Latest(const std::string& characteristic) const;
  // The approved limits of a characteristic, oldest revision first.
  const std::vector<v1::LimitsApproved>& Limits(const std::string& characteristic) const;
  bool KnowsDefectCode(const std::string& code) const { return defect_codes_.contains(code); }
  const v1::DefectCodeDefined* FindDefectCode(const std::string& code) const {
    auto it = defect_codes_.find(code);
    return it == defect_codes_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, Ncr>& ncrs() const { return ncrs_; }
  const Ncr* FindNcr(const std::string& id) const;
  // The NCR raised from a violation or inspection at this measurement
  // stream sequence, if any.
  bool HasNcrFrom(uint64_t source_sequence) const { return ncr_sources_.contains(source_sequence); }
  const std::map<std::string, std::vector<v1::PlanVersionApplied>>& plans() const { return plans_; }
  uint64_t ncr_count() const { return ncrs_.size(); }

 private:
  std::map<std::string, std::vector<v1::PlanVersionApplied>> plans_;  // by plan id, by version
  std::map<std::string, std::string> owner_;                            // characteristic -> plan id
  std::map<std::string, v1::DefectCodeDefined> defect_codes_;
  std::map<std::string, std::vector<v1::LimitsApproved>> limits_;
  std::map<std::string, Ncr> ncrs_;
  std::map<uint64_t, std::string> ncr_sources_;
};

// Whether a work unit exists in the facility (the enterprise model).
using UnitExists = std::function<bool(const std::string& unit)>;

// The events that make the plan current: none when it is already the
// latest version with the same content, else PlanVersionApplied with the
// next version. Checks every field (ids, limits, sizes, rules, codes).
absl::StatusOr<std::vector<es::Event>> DecidePlan(const QualityBook& book, const v1::Plan& plan,
                                                  const UnitExists& unit_exists);
absl::StatusOr<std::vector<es::Event>> DecideDefectCode(const QualityBook& book,
                                                        const v1::DefectCodeDefined& code);
// Limits computed from a baseline become revision n + 1 of the
// characteristic's limits.
absl::StatusOr<std::vector<es::Event>> DecideLimits(const QualityBook& book,
                                                    v1::LimitsApproved limits);
// One NCR command at `now`; a raise without an id gets `new_id`.
absl::StatusOr<std::vector<es::Event>> DecideNcr(const QualityBook& book,
                                                 const v1::NcrCommand& command, absl::Time now,
                                                 const std::string& new_id);
// The NCR's view for the API.
v1::NcrView ViewOf(const Ncr& ncr);
// The NCR id a command is about ("" for a raise without one).
std::string NcrIdOf(const v1::NcrCommand& command);

}  // namespace takt::quality

#endif  // TAKT_SERVICES_QUALITY_QUALITY_BOOK_H_
