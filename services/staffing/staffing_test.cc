#include "services/staffing/staffing.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "libs/common/proto_time.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/model/enterprise_model.h"
#include "libs/testing/temp_dir.h"
#include "rocksdb/db.h"
#include "services/staffing/cli.h"
#include "services/staffing/families.h"
#include "takt/enterprise/v1/model.pb.h"

namespace takt::staffing {
namespace {

namespace ev1 = ::takt::enterprise::v1;

constexpr char kCanary[] = "CANARY-7Q2Z-personal";
const absl::Time kDay = absl::FromCivil(absl::CivilSecond(2026, 3, 2, 6, 0, 0), absl::UTCTimeZone());
// The staffing administrator reading personal data (recorded with each read).
const es::CommandOrigin kReader{"person:hr-1", kDay};

// Files under `dir` holding `needle`.
std::vector<std::string> FilesWith(const std::string& dir, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    if (s.str().find(needle) != std::string::npos) out.push_back(f.path().string());
  }
  return out;
}

// Compacts every RocksDB database under `dir` (all its column families).
void CompactAll(const std::string& dir) {
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (f.path().filename() != "CURRENT") continue;
    const std::string path = f.path().parent_path().string();
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path, families, &handles, &db).ok()) << path;
    for (auto* h : handles) {
      rocksdb::CompactRangeOptions o;
      o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
      ASSERT_TRUE(db->CompactRange(o, h, nullptr, nullptr).ok());
      ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    }
    delete db;
  }
}

class StaffingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OpenLog();
    model::EnterpriseModel m;
    ev1::FacilityDefined f;
    f.set_facility("plant-1");
    f.mutable_calendar()->set_time_zone("UTC");
    f.mutable_calendar()->set_day_start("06:00");
    auto* day = f.mutable_calendar()->add_shifts();
    day->set_name("day");
    day->set_start("06:00");
    day->set_end("14:00");
    ev1::AreaDefined a;
    a.set_facility("plant-1");
    a.set_area("a");
    ev1::WorkCenterDefined w;
    w.set_facility("plant-1");
    w.set_area("a");
    w.set_work_center("wc");
    ev1::WorkUnitDefined u;
    u.set_facility("plant-1");
    u.set_work_center("wc");
    u.set_work_unit("press-1");
    eventlog::AppendRequest append;
    append.context = model::kEnterpriseContext;
    append.facility = model::kEnterpriseStream;
    for (const google::protobuf::Message* msg : std::vector<const google::protobuf::Message*>{&f, &a, &w, &u}) {
      auto events = m.Decide(*msg);
      ASSERT_TRUE(events.ok()) << events.status();
      for (const auto& e : *events) {
        ASSERT_TRUE(m.Apply(e).ok());
        eventlog::Envelope env;
        env.set_event_type(e.type);
        env.set_payload(e.payload);
        append.events.push_back(env);
      }
    }
    ASSERT_TRUE(log_->Append(append).ok());
    Start();
  }
  void OpenLog() {
    eventlog::EmbeddedLogOptions o;
    o.data_dir = dir_.path();
    log_ = std::move(*eventlog::OpenEmbeddedLog(o));
  }
  void Start() {
    models_ = std::make_unique<model::ModelStore>(log_.get());
    ASSERT_TRUE(models_->Refresh().ok());
    auto keys = KeyStore::Open(dir_.path() + "/personal-keys");
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = *std::move(keys);
    staffing_ = std::make_unique<Staffing>(log_.get(), models_.get(), keys_.get());
  }
  void Stop() {
    staffing_.reset();
    keys_.reset();
    models_.reset();
    log_.reset();
  }
  void Restart() {
    Stop();
    OpenLog();
    Start();
  }
  absl::StatusOr<v1::ApplyStaffResponse> Apply(const std::vector<v1::StaffCommand>& commands,
                                               const std::string& request_id = "") {
    v1::ApplyStaffRequest r;
    r.set_facility("plant-1");
    r.set_request_id(request_id);
    for (const auto& c : commands) *r.add_commands() = c;
    return staffing_->ApplyStaff(r, {"supervisor", kDay + absl::Hours(24)});
  }
  static v1::StaffCommand Person(const std::string& id, const std::string& name) {
    v1::StaffCommand c;
    c.mutable_register_person()->set_person(id);
    c.mutable_register_person()->set_name(name);
    c.mutable_register_person()->set_contact(name + "@example.com");
    return c;
  }
  static v1::AttendanceRecord Punch(uint64_t seq, const std::string& person, v1::PunchKind kind, absl::Time at) {
    v1::AttendanceRecord r;
    r.set_source_id("clock-1");
    r.set_source_sequence(seq);
    r.set_person(person);
    r.set_kind(kind);
    *r.mutable_at() = ToProto(at);
    r.set_station("press-1");
    return r;
  }
  absl::StatusOr<v1::AttendanceAck> Send(const std::vector<v1::AttendanceRecord>& records) {
    v1::AttendanceBatch b;
    b.set_facility("plant-1");
    for (const auto& r : records) *b.add_records() = r;
    return staffing_->Ingest(b, kDay + absl::Hours(24), "clock-gateway");
  }
  uint64_t Head(const std::string& stream) {
    auto heads = log_->Heads(kStaffingContext);
    for (const auto& h : *heads) {
      if (h.stream.facility == stream) return h.sequence;
    }
    return 0;
  }

  testing::TempDir dir_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<model::ModelStore> models_;
  std::unique_ptr<KeyStore> keys_;
  std::unique_ptr<Staffing> staffing_;
};

// On Kafka the log stays in the cluster while the keys come back from a
// backup: keys restored from before an erasure are destroyed again at
// start, from the erasure the log recorded, so a restore never undoes one.
TEST_F(StaffingTest, KeysRestoredFromBeforeAnErasureAreDestroyedAgainAtStart) {
  ASSERT_TRUE(Apply({Person("p-1", kCanary), Person("p-2", "Bob")}, "rq-1").ok());
  const std::string backup = dir_.path() + "/keys-backup";
  ASSERT_TRUE(keys_->Backup(backup).ok());
  v1::EraseRequest erase;
  erase.set_facility("plant-1");
  erase.set_person("p-1");
  erase.set_reason("GDPR Art. 17");
  erase.set_request_id("erase-restore");
  ASSERT_TRUE(staffing_->Erase(erase, {"dpo", kDay}).ok());
  Stop();
  // The backup's keys replace the erased store.
  std::filesystem::remove_all(dir_.path() + "/personal-keys");
  std::filesystem::rename(backup, dir_.path() + "/personal-keys");
  OpenLog();
  Start();
  EXPECT_FALSE(keys_->Erased("plant-1", "p-1"));  // the backup still held the key
  ASSERT_TRUE(staffing_->CompleteErasures("plant-1").ok());  // what the module runs at start
  EXPECT_TRUE(keys_->Erased("plant-1", "p-1"));
  EXPECT_FALSE(keys_->Erased("plant-1", "p-2"));
  v1::PersonRequest who;
  who.set_facility("plant-1");
  who.set_person("p-1");
  auto after = staffing_->GetPerson(who, kReader);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->name(), kErasedText);
  who.set_person("p-2");
  EXPECT_EQ(staffing_->GetPerson(who, kReader)->name(), "Bob");
}

// The erasure canary: personal data never reaches the disk in plain text,
// opens while the key lives, reads [erased] everywhere after, and the
// history still verifies.
TEST_F(StaffingTest, ErasureCanary) {
  v1::StaffCommand eval;
  auto* e = eval.mutable_record_evaluation();
  e->set_person("p-1");
  e->set_period("2026-Q1");
  e->set_rating(4);
  e->set_comments(std::string("comments ") + kCanary);
  v1::StaffCommand incident;
  auto* i = incident.mutable_report_incident();
  i->set_incident("inc-1");
  i->set_person("p-1");
  i->set_station("press-1");
  *i->mutable_occurred() = ToProto(kDay + absl::Hours(2));
  i->set_classification(v1::DAYS_AWAY);
  i->set_days_away(2);
  i->set_narrative(std::string("narrative ") + kCanary);
  auto applied = Apply({Person("p-1", kCanary), Person("p-2", "Bob"), eval, incident}, "rq-1");
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->changed(), 4u);

  v1::PersonRequest who;
  who.set_facility("plant-1");
  who.set_person("p-1");
  auto before = staffing_->GetPerson(who, kReader);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->name(), kCanary);
  EXPECT_TRUE(absl::StrContains(before->evaluations(0).comments(), kCanary));
  EXPECT_TRUE(absl::StrContains(before->incidents(0).narrative(), kCanary));
  ASSERT_TRUE(log_->CheckpointAll().ok());
  EXPECT_TRUE(FilesWith(dir_.path(), kCanary).empty()) << FilesWith(dir_.path(), kCanary)[0];
  auto key = keys_->KeyFor("plant-1", "p-1", false);
  ASSERT_TRUE(key.ok());
  const std::string key_bytes(reinterpret_cast<const char*>(key->data()), key->size());

  v1::EraseRequest erase;
  erase.set_facility("plant-1");
  erase.set_person("p-1");
  erase.set_reason("GDPR Art. 17 request 2026-03-01");
  erase.set_request_id("erase-1");
  auto erased = staffing_->Erase(erase, {"dpo", kDay});
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(erased->sealed_fields(), 4u);  // name, contact, comments, narrative
  auto after = staffing_->GetPerson(who, kReader);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->erased());
  EXPECT_EQ(after->name(), kErasedText);
  EXPECT_EQ(after->contact(), kErasedText);
  EXPECT_EQ(after->evaluations(0).comments(), kErasedText);
  EXPECT_EQ(after->incidents(0).narrative(), kErasedText);
  EXPECT_EQ(after->incidents(0).days_away(), 2u);  // the case itself stays
  // A resend of the erasure answers the same; a new registration under the id is refused.
  auto again = staffing_->Erase(erase, {"dpo", kDay});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sealed_fields(), 4u);
  EXPECT_EQ(Apply({Person("p-1", "Ada")}).status().code(), absl::StatusCode::kFailedPrecondition);
  // Bob is untouched.
  who.set_person("p-2");
  EXPECT_EQ(staffing_->GetPerson(who, kReader)->name(), "Bob");

  // After a restart and a compaction of every database: no canary, no key,
  // an export that says erased, and a history that verifies.
  Stop();
  CompactAll(dir_.path());
  EXPECT_TRUE(FilesWith(dir_.path(), kCanary).empty());
  EXPECT_TRUE(FilesWith(dir_.path(), key_bytes).empty());
  OpenLog();
  Start();
  v1::ExportRequest ex;
  ex.set_facility("plant-1");
  auto exported = staffing_->Export(ex, kReader);
  ASSERT_TRUE(exported.ok());
  ASSERT_EQ(exported->people_size(), 2);
  EXPECT_EQ(exported->people(0).name(), kErasedText);
  EXPECT_EQ(exported->people(1).name(), "Bob");
  auto report = log_->Verify({});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->ToText();
}

TEST_F(StaffingTest, EveryReadOfPersonalDataIsRecordedWithItsReaderAndPurpose) {
  ASSERT_TRUE(Apply({Person("p-1", "Ada"), Person("p-2", "Bob")}, "rq-1").ok());
  const uint64_t head = Head("plant-1.staff");
  v1::PersonRequest who;
  who.set_facility("plant-1");
  who.set_person("p-2");
  who.set_purpose("payroll query 2026-11");
  ASSERT_TRUE(staffing_->GetPerson(who, kReader).ok());
  v1::ExportRequest ex;
  ex.set_facility("plant-1");
  ASSERT_TRUE(staffing_->Export(ex, {"person:dpo", kDay}).ok());
  // A person who is not registered: nothing returned, nothing recorded.
  who.set_person("p-9");
  EXPECT_EQ(staffing_->GetPerson(who, kReader).status().code(), absl::StatusCode::kNotFound);
  auto events = log_->ReadStream({kStaffingContext, "plant-1.staff"}, head + 1, 10);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  v1::PersonalDataRead read;
  EXPECT_EQ((*events)[0].envelope.event_type(), "takt.staffing.v1.PersonalDataRead");
  EXPECT_EQ((*events)[0].envelope.actor(), kReader.actor);
  ASSERT_TRUE(read.ParseFromString((*events)[0].envelope.payload()));
  EXPECT_EQ(read.what(), "get_person");
  EXPECT_EQ(read.purpose(), "payroll query 2026-11");
  ASSERT_EQ(read.people_size(), 1);
  EXPECT_EQ(read.people(0), "p-2");
  EXPECT_EQ((*events)[1].envelope.actor(), "person:dpo");
  ASSERT_TRUE(read.ParseFromString((*events)[1].envelope.payload()));
  EXPECT_EQ(read.what(), "export");
  EXPECT_EQ(read.people_size(), 2);
  // The record holds ids, never the data read.
  EXPECT_FALSE(absl::StrContains((*events)[1].envelope.payload(), "Bob"));
}

TEST_F(StaffingTest, PersonalDataReadsAreNotRecordedWhenThePolicySaysSo) {
  ASSERT_TRUE(Apply({Person("p-1", "Ada")}, "rq-1").ok());
  const uint64_t head = Head("plant-1.staff");
  // takt serve --record-reads without personal-data.
  Staffing unrecorded(log_.get(), models_.get(), keys_.get(), /*record_reads=*/false);
  v1::PersonRequest who;
  who.set_facility("plant-1");
  who.set_person("p-1");
  auto view = unrecorded.GetPerson(who, kReader);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->name(), "Ada");
  EXPECT_EQ(Head("plant-1.staff"), head);
  // The default records it.
  ASSERT_TRUE(staffing_->GetPerson(who, kReader).ok());
  EXPECT_EQ(Head("plant-1.staff"), head + 1);
}

TEST_F(StaffingTest, ResendsChangeNothingAfterARestart) {
  ASSERT_TRUE(Apply({Person("p-1", "Ada")}, "rq-1").ok());
  const uint64_t head = Head("plant-1.staff");
  Restart();
  auto resent = Apply({Person("p-1", "Ada")}, "rq-1");
  ASSERT_TRUE(resent.ok()) << resent.status();
  EXPECT_EQ(resent->changed(), 1u);  // the original answer
  EXPECT_EQ(Head("plant-1.staff"), head);
  // The same request id with other content is refused.
  EXPECT_EQ(Apply({Person("p-1", "Eve")}, "rq-1").status().code(), absl::StatusCode::kAlreadyExists);
  // Sealed commands are the server's, never a client's.
  v1::StaffCommand forged;
  forged.mutable_sealed_person()->set_person("p-3");
  EXPECT_EQ(Apply({forged}).status().code(), absl::StatusCode::kInvalidArgument);
}

// A staff file applied twice (under another request id) changes nothing the
// second time, whatever the commands.
TEST_F(StaffingTest, AStaffFileAppliedTwiceChangesNothing) {
  auto request = StaffFromYaml(R"(
facility: plant-1
commands:
  - define_qualification: {qualification: press-op, name: Press operator, validity_days: 365}
  - set_requirement: {station: press-1, qualifications: [press-op], min_people: 1}
  - register_person: {person: p-1, name: Dana, contact: dana@example.com, home_station: press-1}
  - grant_certification: {person: p-1, qualification: press-op, certificate: PO-1, issued: "2026-01-15"}
  - record_training: {person: p-1, course: die-change, day: "2026-02-04", hours: 4, qualification: press-op}
  - record_evaluation: {person: p-1, period: 2026-H1, rating: 4, comments: "Reliable"}
  - report_incident: {incident: i-1, person: p-1, station: press-1, occurred: "2026-03-02T08:00:00Z", classification: NEAR_MISS, narrative: "slipped"}
  - assign_incident_action: {incident: i-1, action: a-1, description: mats, due: "2026-03-09"}
  - complete_incident_action: {incident: i-1, action: a-1, completed: "2026-03-03"}
  - reclassify_incident: {incident: i-1, classification: FIRST_AID, reason: plaster after all}
)");
  ASSERT_TRUE(request.ok()) << request.status();
  auto first = staffing_->ApplyStaff(*request, {"hr", kDay + absl::Hours(24)});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->changed(), 10u);
  const uint64_t head = Head("plant-1.staff");
  request->set_request_id("again");
  auto second = staffing_->ApplyStaff(*request, {"hr", kDay + absl::Hours(25)});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->changed(), 0u);
  EXPECT_EQ(second->unchanged(), 10u);
  EXPECT_EQ(Head("plant-1.staff"), head);
  // A file with a mistake names the line and the command.
  auto bad = StaffFromYaml("facility: plant-1\ncommands:\n  - define_qualification: {qualification: x}\n  - fly: {}\n");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "line 4")) << bad.status();
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "commands[1]")) << bad.status();
}

TEST_F(StaffingTest, AttendancePairsPunchesCountsOvertimeAndDedupsAcrossRestarts) {
  ASSERT_TRUE(Apply({Person("p-1", "Ada"), Person("p-2", "Bob")}).ok());
  v1::RosterRequest roster;
  roster.set_facility("plant-1");
  auto* a = roster.add_assign();
  a->set_person("p-1");
  a->set_day("2026-03-02");
  a->set_shift("day");
  ASSERT_TRUE(staffing_->AssignRoster(roster, {"supervisor", kDay}).ok());

  // p-1 works 05:30-15:00 on a 06:00-14:00 shift: 1 h 30 min overtime.
  auto ack = Send({Punch(1, "p-1", v1::IN, kDay - absl::Minutes(30)),
                   Punch(2, "p-1", v1::OUT, kDay + absl::Hours(9)),
                   Punch(3, "p-2", v1::OUT, kDay + absl::Hours(1)),   // never clocked in
                   Punch(4, "p-9", v1::IN, kDay),                     // not registered
                   Punch(5, "p-2", v1::IN, kDay + absl::Hours(72))});  // in the future
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->accepted(), 2u);
  ASSERT_EQ(ack->rejected_size(), 3);
  EXPECT_EQ(ack->rejected(0).source_sequence(), 3u);
  EXPECT_TRUE(absl::StrContains(ack->rejected(0).reason(), "not clocked in"));
  EXPECT_EQ(ack->rejected(1).code(), static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_TRUE(absl::StrContains(ack->rejected(2).reason(), "future"));
  auto events = log_->ReadStream({kStaffingContext, "plant-1"}, 1, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  v1::ClockedOut out;
  ASSERT_TRUE(out.ParseFromString((*events)[1].envelope.payload()));
  EXPECT_EQ(out.worked_us(), absl::ToInt64Microseconds(absl::Minutes(570)));
  EXPECT_EQ(out.overtime_us(), absl::ToInt64Microseconds(absl::Minutes(90)));

  // A gateway resends after a restart: duplicates, nothing recorded twice.
  Restart();
  ack = Send({Punch(1, "p-1", v1::IN, kDay - absl::Minutes(30)), Punch(2, "p-1", v1::OUT, kDay + absl::Hours(9)),
              Punch(6, "p-1", v1::IN, kDay + absl::Hours(20))});
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->duplicates(), 2u);
  EXPECT_EQ(ack->accepted(), 1u);
  EXPECT_EQ(Head("plant-1"), 3u);
  // The open clock-in survived the restart too; the same key with other content is refused.
  Restart();
  ack = Send({Punch(6, "p-1", v1::IN, kDay + absl::Hours(21)), Punch(7, "p-1", v1::IN, kDay + absl::Hours(22))});
  ASSERT_TRUE(ack.ok());
  ASSERT_EQ(ack->rejected_size(), 2);
  EXPECT_EQ(ack->rejected(0).code(), static_cast<int>(absl::StatusCode::kAlreadyExists));
  EXPECT_TRUE(absl::StrContains(ack->rejected(1).reason(), "clocked in since"));

  // Whole-batch refusals.
  v1::AttendanceBatch empty;
  empty.set_facility("plant-1");
  EXPECT_EQ(staffing_->Ingest(empty, kDay, "g").status().code(), absl::StatusCode::kInvalidArgument);
  empty.set_facility("plant-9");
  *empty.add_records() = Punch(9, "p-1", v1::OUT, kDay);
  EXPECT_EQ(staffing_->Ingest(empty, kDay, "g").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StaffingTest, JobClockingBooksLabourOnWorkOrdersWithinAttendance) {
  ASSERT_TRUE(Apply({Person("p-1", "Ada"), Person("p-2", "Bob")}).ok());
  auto job = [&](uint64_t seq, const std::string& person, v1::PunchKind kind, absl::Time at,
                 const std::string& wo) {
    v1::AttendanceRecord r = Punch(seq, person, kind, at);
    r.clear_station();  // job punches take the clock-in's station
    r.set_work_order(wo);
    return r;
  };
  v1::AttendanceRecord out = Punch(6, "p-1", v1::OUT, kDay + absl::Hours(8));
  out.clear_station();
  const std::vector<v1::AttendanceRecord> day = {
      Punch(1, "p-1", v1::IN, kDay),
      job(2, "p-1", v1::JOB_START, kDay + absl::Minutes(30), "wo-1"),
      job(3, "p-1", v1::JOB_END, kDay + absl::Minutes(150), "wo-1"),
      job(4, "p-1", v1::JOB_START, kDay + absl::Minutes(270), "wo-2"),
      job(5, "p-1", v1::JOB_START, kDay + absl::Minutes(280), "wo-3"),  // wo-2 is open
      out,                                                               // ends wo-2
      job(7, "p-2", v1::JOB_START, kDay, "wo-1"),                        // not clocked in
      job(8, "p-1", v1::JOB_END, kDay + absl::Hours(9), ""),             // no job open
      job(9, "p-1", v1::JOB_START, kDay, "../wo")};                      // bad id
  auto ack = Send(day);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->accepted(), 5u);
  ASSERT_EQ(ack->rejected_size(), 4);
  EXPECT_TRUE(absl::StrContains(ack->rejected(0).reason(), "is on work order 'wo-2'")) << ack->rejected(0).reason();
  EXPECT_TRUE(absl::StrContains(ack->rejected(1).reason(), "not clocked in"));
  EXPECT_TRUE(absl::StrContains(ack->rejected(2).reason(), "no job open"));
  EXPECT_EQ(ack->rejected(3).code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  auto events = log_->ReadStream({kStaffingContext, "plant-1"}, 1, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 5u);
  v1::JobEnded ended;
  ASSERT_TRUE(ended.ParseFromString((*events)[2].envelope.payload()));
  EXPECT_EQ(ended.work_order(), "wo-1");
  EXPECT_EQ(ended.station(), "press-1");  // the clock-in's
  EXPECT_EQ(ended.booked_us(), absl::ToInt64Microseconds(absl::Hours(2)));
  v1::ClockedOut clocked_out;
  ASSERT_TRUE(clocked_out.ParseFromString((*events)[4].envelope.payload()));
  EXPECT_EQ(clocked_out.job_work_order(), "wo-2");
  EXPECT_EQ(clocked_out.job_booked_us(), absl::ToInt64Microseconds(absl::Minutes(210)));
  EXPECT_EQ(clocked_out.station(), "press-1");

  // After a restart the same day resent is all duplicates (including the
  // punches that named no station), and nothing is recorded twice.
  Restart();
  ack = Send({day[0], day[1], day[2], day[3], day[5]});
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->duplicates(), 5u) << (ack->rejected_size() ? ack->rejected(0).reason() : "");
  EXPECT_EQ(Head("plant-1"), 5u);
  // The open job survived a restart too.
  ASSERT_EQ(Send({Punch(10, "p-1", v1::IN, kDay + absl::Hours(20))})->accepted(), 1u);
  Restart();
  ASSERT_EQ(Send({job(11, "p-1", v1::JOB_START, kDay + absl::Hours(21), "wo-4")})->accepted(), 1u);
  Restart();
  ack = Send({job(12, "p-1", v1::JOB_START, kDay + absl::Hours(22), "wo-5")});
  ASSERT_TRUE(ack.ok());
  ASSERT_EQ(ack->rejected_size(), 1);
  EXPECT_TRUE(absl::StrContains(ack->rejected(0).reason(), "'wo-4'")) << ack->rejected(0).reason();
}

TEST_F(StaffingTest, AbsencesAreFromRosteredShiftsSealedAndNotCountedAsCrew) {
  v1::StaffCommand q;
  q.mutable_define_qualification()->set_qualification("press");
  q.mutable_define_qualification()->set_name("Press operator");
  v1::StaffCommand req;
  req.mutable_set_requirement()->set_station("press-1");
  req.mutable_set_requirement()->set_min_people(1);
  ASSERT_TRUE(Apply({Person("p-1", "Ada"), Person("p-2", "Bob"), q, req}).ok());
  v1::StaffCommand absence;
  auto* ab = absence.mutable_record_absence();
  ab->set_person("p-1");
  ab->set_day("2026-03-02");
  ab->set_shift("day");
  ab->set_kind(v1::UNPLANNED);
  ab->set_reason(std::string("flu ") + kCanary);
  // Not rostered: refused, naming the shift.
  auto refused = Apply({absence});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "not rostered on 2026-03-02")) << refused.status();
  // Rostered, then absent: the station's crew drops to nobody.
  v1::RosterRequest roster;
  roster.set_facility("plant-1");
  auto* a = roster.add_assign();
  a->set_person("p-1");
  a->set_day("2026-03-02");
  a->set_shift("day");
  a->set_station("press-1");
  ASSERT_TRUE(staffing_->AssignRoster(roster, {"supervisor", kDay}).ok());
  ASSERT_TRUE(Apply({absence}).ok());
  v1::CoverageRequest cov;
  cov.set_facility("plant-1");
  cov.set_from("2026-03-02");
  cov.set_to("2026-03-02");
  auto coverage = staffing_->GetCoverage(cov);
  ASSERT_TRUE(coverage.ok()) << coverage.status();
  bool seen = false;
  for (const auto& c : coverage->rows()) {
    if (c.station() != "press-1") continue;
    seen = true;
    EXPECT_EQ(c.qualified(), 0u);
    EXPECT_EQ(c.required(), 1u);
  }
  EXPECT_TRUE(seen);
  // The reason is sealed: nowhere on disk in the clear.
  EXPECT_TRUE(FilesWith(dir_.path(), kCanary).empty());
  // A client may not send a sealed reason of its own.
  ab->set_reason("");
  ab->mutable_sealed_reason()->set_ciphertext("forged");
  EXPECT_EQ(Apply({absence}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(StaffingTest, OverlappingAttendanceIsRefusedAndAMissedClockOutDoesNotLockAPersonOut) {
  ASSERT_TRUE(Apply({Person("p-1", "Ada")}).ok());
  auto ack = Send({Punch(1, "p-1", v1::IN, kDay), Punch(2, "p-1", v1::OUT, kDay + absl::Hours(8)),
                   Punch(3, "p-1", v1::IN, kDay + absl::Hours(2))});  // a late upload inside the shift
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->accepted(), 2u);
  ASSERT_EQ(ack->rejected_size(), 1);
  EXPECT_TRUE(absl::StrContains(ack->rejected(0).reason(), "may not overlap")) << ack->rejected(0).reason();
  // Restarted, the last clock-out is still known.
  Restart();
  ack = Send({Punch(4, "p-1", v1::IN, kDay + absl::Hours(7))});
  ASSERT_EQ(ack->rejected_size(), 1);
  // p-2 clocks in, misses the clock-out, and clocks in 13 h later
  // (refused: still open) and 25 h later (accepted: the stale clock-in is
  // abandoned, with no time worked).
  ASSERT_TRUE(Apply({Person("p-2", "Bob")}).ok());
  ack = Send({Punch(5, "p-2", v1::IN, kDay - absl::Hours(20)), Punch(6, "p-2", v1::IN, kDay - absl::Hours(7)),
              Punch(7, "p-2", v1::IN, kDay + absl::Hours(5))});
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->accepted(), 2u);
  ASSERT_EQ(ack->rejected_size(), 1);
  EXPECT_TRUE(absl::StrContains(ack->rejected(0).reason(), "clocked in since"));
  auto events = log_->ReadStream({kStaffingContext, "plant-1"}, 1, 100);
  ASSERT_TRUE(events.ok());
  v1::ClockedIn last;
  ASSERT_TRUE(last.ParseFromString(events->back().envelope.payload()));
  EXPECT_EQ(ToTime(last.abandoned_clock_in()), kDay - absl::Hours(20));
}

TEST_F(StaffingTest, OneRosterRequestMovesAPerson) {
  ASSERT_TRUE(Apply({Person("p-1", "Ada")}).ok());
  v1::RosterRequest first;
  first.set_facility("plant-1");
  auto* a = first.add_assign();
  a->set_person("p-1");
  a->set_day("2026-03-02");
  a->set_shift("day");
  a->set_station("press-1");
  ASSERT_TRUE(staffing_->AssignRoster(first, {"supervisor", kDay}).ok());
  v1::RosterRequest move;
  move.set_facility("plant-1");
  auto* u = move.add_unassign();
  u->set_person("p-1");
  u->set_day("2026-03-02");
  u->set_shift("day");
  u->set_reason("needed on the line");
  auto* b = move.add_assign();
  b->set_person("p-1");
  b->set_day("2026-03-02");
  b->set_shift("day");
  auto moved = staffing_->AssignRoster(move, {"supervisor", kDay});
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->unassigned(), 1u);
  EXPECT_EQ(moved->assigned(), 1u);
  // A problem names which list it is in.
  v1::RosterRequest bad;
  bad.set_facility("plant-1");
  auto* nobody = bad.add_unassign();
  nobody->set_person("p-1");
  nobody->set_day("2026-03-03");
  nobody->set_shift("day");
  bad.set_validate_only(true);
  auto problems = staffing_->AssignRoster(bad, {"supervisor", kDay});
  ASSERT_TRUE(problems.ok()) << problems.status();
  ASSERT_EQ(problems->problems_size(), 1);
  EXPECT_TRUE(problems->problems(0).unassign());
}

TEST_F(StaffingTest, ARosterWithARefusalRecordsNothingAndDryRunListsAll) {
  v1::StaffCommand q;
  q.mutable_define_qualification()->set_qualification("press");
  q.mutable_define_qualification()->set_name("Press operator");
  v1::StaffCommand req;
  req.mutable_set_requirement()->set_station("press-1");
  req.mutable_set_requirement()->add_qualifications("press");
  req.mutable_set_requirement()->set_min_people(1);
  ASSERT_TRUE(Apply({Person("p-1", "Ada"), q, req}).ok());
  const uint64_t head = Head("plant-1.staff");
  v1::RosterRequest roster;
  roster.set_facility("plant-1");
  for (const std::string day : {"2026-03-02", "2026-03-03"}) {
    auto* a = roster.add_assign();
    a->set_person("p-1");
    a->set_day(day);
    a->set_shift("day");
    a->set_station("press-1");
  }
  auto refused = staffing_->AssignRoster(roster, {"supervisor", kDay});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "press (none)")) << refused.status();
  EXPECT_EQ(Head("plant-1.staff"), head);
  roster.set_validate_only(true);
  auto listed = staffing_->AssignRoster(roster, {"supervisor", kDay});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->problems_size(), 2);
  EXPECT_EQ(Head("plant-1.staff"), head);

  v1::CoverageRequest cov;
  cov.set_facility("plant-1");
  cov.set_from("2026-03-02");
  cov.set_to("2026-03-03");
  auto coverage = staffing_->GetCoverage(cov);
  ASSERT_TRUE(coverage.ok());
  EXPECT_EQ(coverage->rows_size(), 2);
  EXPECT_EQ(coverage->gaps(), 2u);
  cov.set_to("2027-03-03");
  EXPECT_EQ(staffing_->GetCoverage(cov).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace takt::staffing
