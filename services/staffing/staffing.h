// File: staffing.h
// -----------------------------------------------------------------------------
// The staffing context's write and read paths, without gRPC (grpc_service.cc
// maps them): the staff record (people, qualifications, requirements,
// absences, evaluations, incidents), rosters, attendance from time clocks,
// coverage, expiring certificates, personal views and erasure.
//
// Streams of facility F (context "staffing"): F.staff holds the record (an
// es::AggregateStore<StaffBook>); F holds attendance.
//
// Personal data is sealed (key_store.h) before a command reaches the record
// store, so the log, the request fingerprints kept in it and the in-memory
// record hold only ciphertext. Views unseal on the way out.
//
// Attendance: a batch is screened record by record (each bad one rejected
// with its reason), its clock-outs are paired with the person's open
// clock-in (a ClockedOut carries the interval it closes and the overtime
// outside the person's rostered shifts; attendance and booked jobs may not
// overlap; a clock-in more than 24 h after an open one abandons it), and
// its events are appended in one
// append with the expected sequence: acknowledged once durable. Resends
// (same time clock and sequence) are recognised from an index of the
// stream's source keys, rebuilt from the stream after a restart. A failed
// append forgets what the batch did (the facility's state is reloaded from
// the log on the next batch).
// Memory: the source keys of every punch of the facilities a process has
// touched stay in memory (about 40 bytes each).
#ifndef TAKT_SERVICES_STAFFING_STAFFING_H_
#define TAKT_SERVICES_STAFFING_STAFFING_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/es/aggregate_store.h"
#include "libs/eventlog/event_log.h"
#include "libs/model/model_store.h"
#include "services/staffing/key_store.h"
#include "services/staffing/staff_book.h"
#include "takt/staffing/v1/staffing_service.pb.h"

namespace takt::staffing {

inline constexpr int kMaxRecordsPerBatch = 10000;
inline constexpr int kMaxListedRejections = 100;
inline constexpr int kMaxCommandsPerRequest = 1000;
inline constexpr int kMaxAssignmentsPerRequest = 10000;
inline constexpr size_t kMaxPersonalText = 4096;
inline constexpr absl::Duration kMaxFutureSkew = absl::Minutes(5);
inline constexpr absl::Duration kMaxShift = absl::Hours(24);

// The id an ExpiringRequest's scope names: "enterprise" (also when empty),
// or the region or facility id, given bare ("emea") or as a resource name
// ("regions/emea", "facilities/detroit-1", as HTTP routes give it).
std::string ExpiringScopeId(const std::string& scope);

class Staffing {
 public:
  // `record_reads` false: personal-data reads are not recorded (takt serve
  // --record-reads without personal-data).
  Staffing(eventlog::EventLog* log, model::ModelStore* models, KeyStore* keys, bool record_reads = true);

  absl::StatusOr<v1::ApplyStaffResponse> ApplyStaff(const v1::ApplyStaffRequest& request,
                                                    const es::CommandOrigin& origin);
  absl::StatusOr<v1::RosterResponse> AssignRoster(const v1::RosterRequest& request,
                                                  const es::CommandOrigin& origin);
  absl::StatusOr<v1::AttendanceAck> Ingest(const v1::AttendanceBatch& batch, absl::Time now,
                                           const std::string& actor);
  absl::StatusOr<v1::CoverageResponse> GetCoverage(const v1::CoverageRequest& request);
  absl::StatusOr<v1::ExpiringResponse> ListExpiring(const v1::ExpiringRequest& request,
                                                    absl::Time now);
  // Personal data: each read is recorded (PersonalDataRead, person ids
  // only, with the reader and the purpose) before the data is returned; a
  // read that cannot be recorded returns nothing. Unless record_reads is off.
  absl::StatusOr<v1::PersonView> GetPerson(const v1::PersonRequest& request, const es::CommandOrigin& origin);
  absl::StatusOr<v1::ExportResponse> Export(const v1::ExportRequest& request, const es::CommandOrigin& origin);
  // Records the erasure, then destroys the person's key (a resend destroys
  // it again: an erasure interrupted between the two completes).
  absl::StatusOr<v1::EraseResponse> Erase(const v1::EraseRequest& request,
                                          const es::CommandOrigin& origin);
  // Destroys the keys of every person the facility's record says erased
  // (an erasure interrupted after its event); run at start.
  absl::Status CompleteErasures(const std::string& facility);

 private:
  // A job (labour booking) open on a work order.
  struct OpenJob {
    absl::Time at;
    std::string station;
    std::string work_order;
  };
  // A person's open clock-in, and the job open within it.
  struct Open {
    absl::Time at;
    std::string station;
    std::optional<OpenJob> job;
    absl::Time last_job_end = absl::InfinitePast();  // jobs may not overlap
  };
  struct FacilityState {
    uint64_t head = 0;
    absl::flat_hash_map<std::string, Open> open;  // person -> open clock-in
    // person -> their latest clock-out: attendance may not overlap.
    absl::flat_hash_map<std::string, absl::Time> last_out;
    // source id -> source sequence -> content hash.
    absl::flat_hash_map<std::string, absl::flat_hash_map<uint64_t, size_t>> seen;
  };
  struct Slot {
    absl::Mutex mu;
    std::unique_ptr<FacilityState> state ABSL_GUARDED_BY(mu);
  };

  Slot* SlotOf(const std::string& facility) ABSL_LOCKS_EXCLUDED(slots_mu_);
  absl::StatusOr<FacilityState*> Load(Slot& slot, const std::string& facility)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(slot.mu);
  // Seals the personal data of `request`'s commands in place.
  absl::Status SealCommands(v1::ApplyStaffRequest& request);
  absl::Status RecordRead(const std::string& facility, std::vector<std::string> people, const std::string& what,
                          const std::string& purpose, const es::CommandOrigin& origin);
  v1::PersonView ViewOf(const StaffBook& book, const std::string& facility, const Person& p);
  // Runs `fn` with the facts of a facility (calendar, stations).
  absl::Status WithFacts(const std::string& facility, absl::Time now,
                         const std::function<absl::Status(const Facts&)>& fn);

  eventlog::EventLog* log_;
  model::ModelStore* models_;
  KeyStore* keys_;
  const bool record_reads_;
  es::AggregateStore<StaffBook> books_;
  // Lock order: a facility's Slot::mu, then the record store's, then the
  // model's.
  absl::Mutex slots_mu_;
  std::map<std::string, std::unique_ptr<Slot>> slots_ ABSL_GUARDED_BY(slots_mu_);
};

}  // namespace takt::staffing

#endif  // TAKT_SERVICES_STAFFING_STAFFING_H_
