#include "services/audit/history.h"
#include "services/registry.h"

#include "services/audit/explain.h"
#include "services/scheduling/recompute.h"
#include "services/scheduling/rollup_projection.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "libs/common/proto_time.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/record.h"
#include "libs/testing/temp_dir.h"
#include "rocksdb/db.h"
#include "takt/scheduling/v1/events.pb.h"

namespace takt::audit {
namespace {

namespace sv1 = ::takt::scheduling::v1;
using eventlog::FailureKind;

class HistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    eventlog::EmbeddedLogOptions o;
    o.data_dir = dir_.path();
    o.checkpoint_interval = 16;
    auto log = eventlog::OpenEmbeddedLog(o);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }

  // Appends `n` counts of plant-1 as one batch; returns when it is durable.
  void Counts(int n, uint64_t first_seq) {
    eventlog::AppendRequest r;
    r.context = "scheduling";
    r.facility = "plant-1";
    for (int i = 0; i < n; ++i) {
      sv1::ProductionCounted c;
      c.set_work_unit("press-1");
      c.set_product("door");
      c.set_good(100 + i);
      c.set_scrap(i % 3);
      eventlog::Envelope e;
      e.set_event_type("takt.scheduling.v1.ProductionCounted");
      e.set_schema_version(1);
      e.set_actor("gateway:plant-1");
      *e.mutable_occurred_time() = ToProto(absl::FromUnixSeconds(1'790'000'000 + 60 * (first_seq + i)));
      e.set_source_id("gw-1");
      e.set_source_sequence(first_seq + i);
      e.set_payload(c.SerializeAsString());
      r.events.push_back(e);
    }
    ASSERT_TRUE(log_->Append(r).ok());
  }

  std::vector<v1::ReplayItem> Run(const v1::ReplayRequest& req) {
    std::vector<v1::ReplayItem> out;
    auto n = Replay(*log_, services::Contexts(), req, [&](const v1::ReplayItem& item) { out.push_back(item); });
    EXPECT_TRUE(n.ok()) << n.status();
    return out;
  }

  std::string Export() {
    EXPECT_TRUE(log_->CheckpointAll().ok());
    v1::ReplayRequest req;
    req.set_facility("plant-1");
    req.set_with_proofs(true);
    std::string text;
    for (const auto& item : Run(req)) text += ToJsonLine(item) + "\n";
    return text;
  }

  static std::vector<std::string> Lines(const std::string& text) {
    return absl::StrSplit(text, '\n', absl::SkipEmpty());
  }

  // Rewrites line `i` of an export through `edit`.
  static std::string Edit(const std::string& text, size_t i,
                          const std::function<void(v1::ReplayItem&)>& edit) {
    auto lines = Lines(text);
    v1::ReplayItem item;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(lines[i], &item).ok());
    edit(item);
    lines[i] = ToJsonLine(item);
    return absl::StrJoin(lines, "\n");
  }

  eventlog::VerifyReport Verify(const std::string& text) {
    auto r = VerifyExport(text, log_->keys());
    EXPECT_TRUE(r.ok()) << r.status();
    return *r;
  }

  static void ExpectFailure(const eventlog::VerifyReport& r, FailureKind kind, uint64_t seq) {
    ASSERT_EQ(r.failures.size(), 1u) << r.ToText();
    EXPECT_EQ(r.failures[0].kind, kind) << r.ToText();
    EXPECT_EQ(r.failures[0].sequence, seq) << r.ToText();
    EXPECT_EQ(r.failures[0].facility, "plant-1") << r.ToText();
  }

  testing::TempDir dir_;
  std::unique_ptr<eventlog::EventLog> log_;
};

TEST_F(HistoryTest, ReplayShowsWhoWhatWhenAndReadablePayloads) {
  Counts(5, 1);
  v1::ReplayRequest req;
  req.set_facility("plant-1");
  auto items = Run(req);
  ASSERT_EQ(items.size(), 5u);
  const auto& e = items[2].event();
  EXPECT_EQ(e.context(), "scheduling");
  EXPECT_EQ(e.stream(), "plant-1");
  EXPECT_EQ(e.sequence(), 3u);
  EXPECT_EQ(e.actor(), "gateway:plant-1");
  EXPECT_EQ(e.source_id(), "gw-1");
  EXPECT_EQ(e.source_sequence(), 3u);
  EXPECT_TRUE(e.has_recorded_time());
  EXPECT_NE(e.payload_json().find("\"good\":\"102\""), std::string::npos) << e.payload_json();
  EXPECT_NE(e.payload_json().find("\"work_unit\":\"press-1\""), std::string::npos);
  EXPECT_TRUE(e.record().empty());  // proofs only when asked

  // Filters: type, sequence range, occurred time.
  req.add_event_types("takt.scheduling.v1.UnitStateChanged");
  EXPECT_TRUE(Run(req).empty());
  req.clear_event_types();
  req.set_from_sequence(2);
  req.set_to_sequence(3);
  EXPECT_EQ(Run(req).size(), 2u);
  req.set_from_sequence(0);
  req.set_to_sequence(0);
  *req.mutable_from_time() = ToProto(absl::FromUnixSeconds(1'790'000'000 + 60 * 4));
  EXPECT_EQ(Run(req).size(), 2u);  // sequences 4 and 5

  // CSV for people and spreadsheets.
  EXPECT_EQ(CsvHeader().substr(0, 24), "context,stream,sequence,");
  const std::string csv = ToCsvLine(items[0].event());
  EXPECT_EQ(csv.substr(0, 21), "scheduling,plant-1,1,");
  EXPECT_NE(csv.find("\"{\"\"work_unit\"\""), std::string::npos) << csv;  // quoted JSON
}

TEST_F(HistoryTest, AsOfATimeIsTheHistoryAsItStoodThen) {
  Counts(3, 1);
  absl::SleepFor(absl::Milliseconds(5));
  const absl::Time then = absl::Now();
  absl::SleepFor(absl::Milliseconds(5));
  Counts(4, 4);
  v1::ReplayRequest req;
  req.set_facility("plant-1");
  *req.mutable_as_of_time() = ToProto(then);
  auto as_of = Run(req);
  ASSERT_EQ(as_of.size(), 3u);
  EXPECT_EQ(as_of.back().event().sequence(), 3u);
  // The same as replaying up to the position the log stood at then.
  req.clear_as_of_time();
  req.set_to_sequence(3);
  auto by_position = Run(req);
  ASSERT_EQ(by_position.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ToJsonLine(as_of[i]), ToJsonLine(by_position[i]));
  }
  EXPECT_EQ(Run(v1::ReplayRequest{[] {
              v1::ReplayRequest r;
              r.set_facility("plant-1");
              return r;
            }()}).size(),
            7u);
}

TEST_F(HistoryTest, AnExportVerifiesOfflineAndEveryTamperingIsCaught) {
  for (int b = 0; b < 5; ++b) Counts(8, 1 + 8 * b);  // checkpoints at 16, 32 and the head
  const std::string text = Export();
  const auto lines = Lines(text);
  ASSERT_GT(lines.size(), 40u);  // 40 events and their checkpoints
  {
    auto r = Verify(text);
    EXPECT_TRUE(r.ok()) << r.ToText();
    EXPECT_EQ(r.events_checked, 40u);
    EXPECT_GE(r.checkpoints_checked, 2u);  // every 16 events, and the head
  }
  // Regression (issue 11.3): an export cut back to an earlier signed head
  // (the later events and checkpoints gone) verifies on its own; against
  // the heads an auditor kept from the full export it is rolled back.
  {
    auto full = VerifyExport(text, log_->keys());
    ASSERT_TRUE(full.ok() && full->ok());
    ASSERT_EQ(full->heads.size(), 1u);
    EXPECT_EQ(full->heads[0].sequence, 40u);
    std::string cut;
    for (const auto& line : lines) {
      v1::ReplayItem item;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &item).ok());
      const uint64_t seq = item.has_event() ? item.event().sequence() : item.checkpoint().sequence();
      if (seq <= 32) cut += line + "\n";
    }
    auto alone = VerifyExport(cut, log_->keys());
    ASSERT_TRUE(alone.ok());
    EXPECT_TRUE(alone->ok()) << alone->ToText();
    auto against = VerifyExport(cut, log_->keys(), full->heads);
    ASSERT_TRUE(against.ok());
    ASSERT_EQ(against->failures.size(), 1u) << against->ToText();
    EXPECT_EQ(against->failures[0].kind, FailureKind::kRolledBack);
    EXPECT_EQ(against->failures[0].sequence, 33u);
    // A later, longer export extends the kept head.
    auto later = VerifyExport(text, log_->keys(), alone->heads);
    ASSERT_TRUE(later.ok());
    EXPECT_TRUE(later->ok()) << later->ToText();
  }
  // A byte of a stored record flipped.
  ExpectFailure(Verify(Edit(text, 9, [](v1::ReplayItem& i) {
                  std::string rec = i.event().record();
                  rec[rec.size() - 3] ^= 0x01;
                  i.mutable_event()->set_record(rec);
                })),
                FailureKind::kAltered, 10);
  // The readable payload edited by hand (the record left as it was).
  ExpectFailure(Verify(Edit(text, 19, [](v1::ReplayItem& i) {
                  std::string json = i.mutable_event()->payload_json();
                  json.replace(json.find("\"good\":\"103\""), 12, "\"good\":\"190\"");
                  i.mutable_event()->set_payload_json(json);
                })),
                FailureKind::kAltered, 20);
  // An event deleted.
  {
    auto l = lines;
    l.erase(l.begin() + 24);
    ExpectFailure(Verify(absl::StrJoin(l, "\n")), FailureKind::kMissing, 25);
  }
  // Two events swapped.
  {
    auto l = lines;
    std::swap(l[30], l[31]);
    ExpectFailure(Verify(absl::StrJoin(l, "\n")), FailureKind::kReordered, 31);
  }
  // The tail cut behind a signed head (checkpoint lines kept).
  {
    auto l = lines;
    l.erase(l.begin() + 35, l.begin() + 40);
    ExpectFailure(Verify(absl::StrJoin(l, "\n")), FailureKind::kTruncated, 36);
  }
  // A forged checkpoint signature.
  {
    const size_t last = lines.size() - 1;
    ExpectFailure(Verify(Edit(text, last, [](v1::ReplayItem& i) {
                    eventlog::v1::Checkpoint c;
                    ASSERT_TRUE(c.ParseFromString(i.checkpoint().checkpoint()));
                    std::string sig = c.signature();
                    sig[0] ^= 0x01;
                    c.set_signature(sig);
                    i.mutable_checkpoint()->set_checkpoint(c.SerializeAsString());
                  })),
                  FailureKind::kBadSignature, 40);
  }
  // Someone else's key does not verify it.
  auto other = VerifyExport(text, crypto::KeyRing(std::string(32, '\x07')));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->ok());
  EXPECT_EQ(other->failures[0].kind, FailureKind::kBadSignature);
  // Not an export at all.
  auto junk = VerifyExport("{\"event\": 7}\n", log_->keys());
  ASSERT_TRUE(junk.ok());
  EXPECT_FALSE(junk->ok());
}

TEST_F(HistoryTest, VerifiedReplayChecksTheChainAsItDecodes) {
  for (int b = 0; b < 5; ++b) Counts(8, 1 + 8 * b);
  ASSERT_TRUE(log_->CheckpointAll().ok());
  int64_t good = 0;
  auto r = VerifiedReplay(*log_, {{"scheduling", "plant-1"}, {"scheduling", "plant-2"}}, 2,
                          [&](const eventlog::v1::Envelope& e) {
                            sv1::ProductionCounted c;
                            ASSERT_TRUE(c.ParseFromString(e.payload()));
                            good += c.good();
                          });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->report.ok()) << r->report.ToText();
  EXPECT_EQ(r->events, 40u);
  EXPECT_EQ(r->report.streams_checked, 2u);  // plant-2 is empty, and fine
  EXPECT_GE(r->report.checkpoints_checked, 3u);
  EXPECT_EQ(good, 5 * (100 + 101 + 102 + 103 + 104 + 105 + 106 + 107));
}

TEST_F(HistoryTest, ReplayStopsAtATamperedEvent) {
  Counts(8, 1);
  log_.reset();
  {
    // Flip a byte of the stored chunk (the events' RocksDB values).
    rocksdb::Options o;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(o, dir_.path() + "/log", &names).ok());
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.path() + "/log", cfs, &handles, &db).ok());
    rocksdb::ColumnFamilyHandle* events = nullptr;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "events") events = handles[i];
    }
    ASSERT_NE(events, nullptr);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), events));
    it->SeekToFirst();
    ASSERT_TRUE(it->Valid());
    std::string key = it->key().ToString(), value = it->value().ToString();
    // Inside the third event's payload (a unit name), so that the chunk
    // frame stays intact and only the record's hash can tell.
    size_t at = value.find("press-1");
    at = value.find("press-1", at + 1);
    at = value.find("press-1", at + 1);
    ASSERT_NE(at, std::string::npos);
    value[at] = 'P';
    it.reset();
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), events, key, value).ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
  eventlog::EmbeddedLogOptions o;
  o.data_dir = dir_.path();
  auto reopened = eventlog::OpenEmbeddedLog(o);
  ASSERT_TRUE(reopened.ok());
  log_ = std::move(*reopened);
  v1::ReplayRequest req;
  req.set_facility("plant-1");
  auto n = Replay(*log_, services::Contexts(), req, [](const v1::ReplayItem&) {});
  EXPECT_EQ(n.status().code(), absl::StatusCode::kDataLoss) << n.status();
  EXPECT_NE(n.status().message().find("scheduling/plant-1 is altered at sequence 3"),
            std::string::npos)
      << n.status();
  // Regression (issue 11.4): a projection rebuild applied the edited value
  // and explain called it EQUAL. Every reader that acts on events checks
  // the chain: the subscription hands out 1 and 2, then stops at 3.
  auto sub = log_->Subscribe("scheduling", {});
  ASSERT_TRUE(sub.ok());
  auto first = (*sub)->Poll(100, absl::Milliseconds(10));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 2u);
  auto second = (*sub)->Poll(100, absl::Milliseconds(10));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(second.status().message().find("scheduling/plant-1 sequence 3: altered"),
            std::string::npos)
      << second.status();
  // The projection stops there with the same words.
  auto store = rollup::RollupStore::Open(dir_.path() + "/rollups");
  ASSERT_TRUE(store.ok());
  kpi::FacilityCalendar calendar = *kpi::FacilityCalendar::Create({"UTC", 0, {}});
  scheduling::Projection projection(log_.get(), store->get(),
                                [&](const std::string&) { return &calendar; });
  ASSERT_TRUE(projection.Start().ok());
  auto applied = projection.CatchUp();
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(applied.status().message().find("sequence 3"), std::string::npos) << applied.status();
  // And so does explain's recomputation from raw events.
  auto recomputed = scheduling::RecomputeElements(*log_, "plant-1", nullptr, absl::InfinitePast(),
                                      absl::InfiniteFuture(), 8, 0);
  EXPECT_EQ(recomputed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(recomputed.status().message().find("scheduling/plant-1 sequence 3"), std::string::npos)
      << recomputed.status();
}

// Rewrites the records of plant-1's first stored chunk through `edit`
// (the log must be closed).
void EditFirstChunk(const std::string& dir,
                    const std::function<void(std::vector<std::string>&)>& edit) {
  rocksdb::Options o;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(o, dir + "/log", &names).ok());
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(o, dir + "/log", cfs, &handles, &db).ok());
  rocksdb::ColumnFamilyHandle* events = nullptr;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "events") events = handles[i];
  }
  ASSERT_NE(events, nullptr);
  std::string key, value;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), events));
    it->SeekToFirst();
    ASSERT_TRUE(it->Valid());
    key = it->key().ToString();
    value = it->value().ToString();
  }
  std::vector<std::string> records;
  eventlog::ChunkReader reader;
  ASSERT_TRUE(reader.Open(value));
  std::string_view record;
  while (reader.Next(&record)) records.emplace_back(record);
  edit(records);
  eventlog::ChunkBuilder builder;
  builder.Reset();
  for (const std::string& r : records) builder.Add(r);
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), events, key, std::string(builder.Finish())).ok());
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  delete db;
}

// Readers of the audit path see stored records without RocksDB's CRC (the
// chain covers the same bytes): the last event of a stream, damaged in the
// sequence it claims or replaced by an intact copy of another event, must
// stop the replay before it is shown, although no record follows it.
TEST_F(HistoryTest, ReplayNeverShowsADamagedOrMovedLastEvent) {
  Counts(8, 1);
  log_.reset();
  struct Case {
    const char* name;
    std::function<void(std::vector<std::string>&)> edit;
    const char* says;
  };
  const Case cases[] = {
      {"sequence byte of the last event",
       [](std::vector<std::string>& records) {
         ASSERT_EQ(records.size(), 8u);
         std::string& last = records[7];
         std::string_view hash, body;
         ASSERT_TRUE(eventlog::SplitRecord(last, &hash, &body));
         const size_t at = static_cast<size_t>(body.data() - last.data());
         ASSERT_EQ(last[at], '\x08');      // field 1, varint
         ASSERT_EQ(last[at + 1], '\x08');  // sequence 8
         last[at + 1] = '\x09';
       },
       "scheduling/plant-1 is altered at sequence 8"},
      {"an intact copy of event 7 stored as 8",
       [](std::vector<std::string>& records) { records[7] = records[6]; },
       "at sequence 8"},
  };
  std::string saved;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EditFirstChunk(dir_.path(), c.edit);
    eventlog::EmbeddedLogOptions o;
    o.data_dir = dir_.path();
    auto reopened = eventlog::OpenEmbeddedLog(o);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    v1::ReplayRequest req;
    req.set_facility("plant-1");
    std::vector<uint64_t> shown;
    auto n = Replay(**reopened, services::Contexts(), req,
                    [&](const v1::ReplayItem& item) { shown.push_back(item.event().sequence()); });
    EXPECT_EQ(n.status().code(), absl::StatusCode::kDataLoss) << n.status();
    EXPECT_NE(n.status().message().find(c.says), std::string::npos) << n.status();
    EXPECT_EQ(shown.size(), 7u);
    // The verified replay hands out the seven sound events only.
    uint64_t handed = 0;
    auto verified = VerifiedReplay(**reopened, {{"scheduling", "plant-1"}}, 1,
                                   [&](const eventlog::v1::Envelope&) { ++handed; });
    ASSERT_TRUE(verified.ok()) << verified.status();
    EXPECT_FALSE(verified->report.ok());
    EXPECT_EQ(handed, 7u);
  }
}

TEST_F(HistoryTest, ProofsNeedAContiguousRangeAndBadRequestsAreRefused) {
  Counts(3, 1);
  v1::ReplayRequest req;
  req.set_facility("plant-1");
  req.set_with_proofs(true);
  req.add_event_types("takt.scheduling.v1.ProductionCounted");
  auto r = Replay(*log_, services::Contexts(), req, [](const v1::ReplayItem&) {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  req.clear_event_types();
  req.add_contexts("payroll");
  EXPECT_NE(Replay(*log_, services::Contexts(), req, [](const v1::ReplayItem&) {}).status().message().find("'payroll'"),
            std::string::npos);
  req.clear_contexts();
  req.set_facility("../etc");
  EXPECT_EQ(Replay(*log_, services::Contexts(), req, [](const v1::ReplayItem&) {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace takt::audit
