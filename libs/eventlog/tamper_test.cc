// Tamper evidence: edit the embedded log's RocksDB files behind Takt's back,
// the way an attacker with disk access would, and check that verification
// names the right stream, sequence and kind.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string_view>

#include "absl/strings/str_cat.h"

#include "gtest/gtest.h"
#include "libs/crypto/ed25519.h"
#include "libs/crypto/sha256.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/record.h"
#include "libs/eventlog/sample_events.h"
#include "libs/eventlog/verifier.h"
#include "libs/testing/temp_dir.h"
#include "rocksdb/db.h"

namespace takt::eventlog {
namespace {

const StreamId kVictim{"scheduling", "plant-7"};
const StreamId kBystander{"scheduling", "plant-8"};

// Raw access to the log's column families.
class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {"default", "events", "checkpoints", "dedup", "heads"}) {
      rocksdb::ColumnFamilyOptions o;
      if (std::string_view(name) == "events") {  // as the log keeps them
        o.enable_blob_files = true;
        o.min_blob_size = 1024;
      }
      cfs.emplace_back(name, o);
    }
    rocksdb::DB* raw;
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::Options(), dir + "/log", cfs, &handles_, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(raw);
  }
  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  }
  rocksdb::ColumnFamilyHandle* events() { return handles_[1]; }
  void FlushEvents() { ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions(), events()).ok()); }
  rocksdb::ColumnFamilyHandle* checkpoints() { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* heads() { return handles_[4]; }
  std::string Get(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    std::string v;
    EXPECT_TRUE(db_->Get(rocksdb::ReadOptions(), cf, key, &v).ok());
    return v;
  }
  void Put(rocksdb::ColumnFamilyHandle* cf, const std::string& key, const std::string& v) {
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), cf, key, v).ok());
  }
  void Delete(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    ASSERT_TRUE(db_->Delete(rocksdb::WriteOptions(), cf, key).ok());
  }

  // A stream's stored chunks: first sequence -> records.
  using Chunks = std::map<uint64_t, std::vector<std::string>>;
  Chunks ReadChunks(const StreamId& stream) {
    Chunks out;
    std::string prefix = EmbeddedStreamPrefix(stream);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      std::string_view k = it->key().ToStringView().substr(prefix.size());
      uint64_t first = 0;
      for (char c : k) first = (first << 8) | static_cast<unsigned char>(c);
      ChunkReader reader;
      EXPECT_TRUE(reader.Open(it->value().ToStringView()));
      std::string_view record;
      while (reader.Next(&record)) out[first].emplace_back(record);
    }
    return out;
  }
  // Replaces all of a stream's chunks.
  void WriteChunks(const StreamId& stream, const Chunks& chunks) {
    for (const auto& [first, records] : ReadChunks(stream)) {
      Delete(events(), EmbeddedEventKey(stream, first));
    }
    for (const auto& [first, records] : chunks) {
      ChunkBuilder b;
      b.Reset();
      for (const auto& r : records) b.Add(r);
      Put(events(), EmbeddedEventKey(stream, first), std::string(b.Finish()));
    }
  }
  // The record of one event, by sequence (the chunk that holds it).
  std::string* Find(Chunks& chunks, uint64_t sequence) {
    auto it = chunks.upper_bound(sequence);
    if (it == chunks.begin()) return nullptr;
    --it;
    uint64_t index = sequence - it->first;
    return index < it->second.size() ? &it->second[index] : nullptr;
  }

 private:
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EmbeddedLogOptions o;
    o.data_dir = dir_.path();
    o.checkpoint_interval = 20;
    auto log = OpenEmbeddedLog(o);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE((*log)->Append(SampleAppend(kVictim.facility, 10)).ok());
      ASSERT_TRUE((*log)->Append(SampleAppend(kBystander.facility, 10)).ok());
    }
    // 50 events per stream in chunks of 10; checkpoints at 20, 40 and 50
    // (on close).
  }

  // Flushes the events to disk and returns their blob file (empty if none).
  std::filesystem::path FlushedBlobFile() {
    { RawDb(dir_.path()).FlushEvents(); }
    std::filesystem::path blob;
    for (const auto& f : std::filesystem::directory_iterator(dir_.path() + "/log")) {
      if (f.path().extension() == ".blob") blob = f.path();
    }
    return blob;
  }

  VerifyReport Verify() {
    auto report = VerifyEmbeddedLogDirectory(dir_.path(), {});
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : VerifyReport{};
  }

  void ExpectOnly(const VerifyReport& report, uint64_t sequence, FailureKind kind) {
    ASSERT_EQ(report.failures.size(), 1u) << report.ToText();
    const VerifyFailure& f = report.failures[0];
    EXPECT_EQ(f.context, kVictim.context);
    EXPECT_EQ(f.facility, kVictim.facility);
    EXPECT_EQ(f.sequence, sequence) << report.ToText();
    EXPECT_EQ(f.kind, kind) << report.ToText();
  }

  testing::TempDir dir_;
};

TEST_F(TamperTest, IntactLogVerifies) {
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << r.ToText();
  EXPECT_EQ(r.events_checked, 100u);
  EXPECT_EQ(r.checkpoints_checked, 6u);
}

TEST_F(TamperTest, EveryFlippedByteOfAnEventIsDetected) {
  RawDb::Chunks original;
  {
    RawDb raw(dir_.path());
    original = raw.ReadChunks(kVictim);
    ASSERT_EQ(original.size(), 5u);  // one chunk per append of 10
  }
  const size_t size = RawDb(dir_.path()).Find(original, 17)->size();
  // Flip each byte position in turn (the record's frame, hash and body).
  for (size_t i = 0; i < size; i += 5) {
    {
      RawDb raw(dir_.path());
      RawDb::Chunks changed = original;
      (*raw.Find(changed, 17))[i] ^= 0x20;
      raw.WriteChunks(kVictim, changed);
    }
    VerifyReport r = Verify();
    ASSERT_EQ(r.failures.size(), 1u) << "byte " << i << "\n" << r.ToText();
    EXPECT_EQ(r.failures[0].facility, kVictim.facility);
    // A changed sequence field reads as a moved event; anything else as an edit.
    EXPECT_TRUE(r.failures[0].kind == FailureKind::kAltered ||
                r.failures[0].kind == FailureKind::kReordered)
        << r.ToText();
    EXPECT_EQ(r.failures[0].sequence, 17u) << "byte " << i << "\n" << r.ToText();
  }
}

TEST_F(TamperTest, DeletedEventIsMissing) {
  {
    RawDb raw(dir_.path());
    RawDb::Chunks chunks = raw.ReadChunks(kVictim);
    auto& chunk = chunks.at(21);
    chunk.erase(chunk.begin() + 2);  // sequence 23
    raw.WriteChunks(kVictim, chunks);
  }
  ExpectOnly(Verify(), 23, FailureKind::kMissing);
}

TEST_F(TamperTest, DeletedChunkIsMissing) {
  {
    RawDb raw(dir_.path());
    raw.Delete(raw.events(), EmbeddedEventKey(kVictim, 21));  // sequences 21..30
  }
  ExpectOnly(Verify(), 21, FailureKind::kMissing);
}

TEST_F(TamperTest, SwappedEventsAreReordered) {
  {
    RawDb raw(dir_.path());
    RawDb::Chunks chunks = raw.ReadChunks(kVictim);
    std::swap(*raw.Find(chunks, 33), *raw.Find(chunks, 34));
    raw.WriteChunks(kVictim, chunks);
  }
  ExpectOnly(Verify(), 33, FailureKind::kReordered);
}

TEST_F(TamperTest, EventsSwappedAcrossChunksAreReordered) {
  {
    RawDb raw(dir_.path());
    RawDb::Chunks chunks = raw.ReadChunks(kVictim);
    std::swap(*raw.Find(chunks, 30), *raw.Find(chunks, 31));
    raw.WriteChunks(kVictim, chunks);
  }
  ExpectOnly(Verify(), 30, FailureKind::kReordered);
}

TEST_F(TamperTest, TailCutBehindASignedHeadIsTruncated) {
  {
    RawDb raw(dir_.path());
    // Remove the last 5 events and the head record too, as an attacker
    // would; only the signed checkpoint at 50 remembers the real head.
    RawDb::Chunks chunks = raw.ReadChunks(kVictim);
    chunks.at(41).resize(5);
    raw.WriteChunks(kVictim, chunks);
    raw.Delete(raw.heads(), kVictim.context + std::string(1, '\0') + kVictim.facility);
  }
  ExpectOnly(Verify(), 46, FailureKind::kTruncated);
}

TEST_F(TamperTest, RewrittenChainIsCaughtByTheSignedCheckpoint) {
  // Rewrite event 35 and re-hash the chain from there to the end: every hash
  // is self-consistent, but the signed heads at 40 and 50 no longer match.
  {
    RawDb raw(dir_.path());
    RawDb::Chunks chunks = raw.ReadChunks(kVictim);
    std::string prev;
    {
      auto env = DecodeRecord(*raw.Find(chunks, 34));
      ASSERT_TRUE(env.ok());
      prev = env->hash();
    }
    for (uint64_t s = 35; s <= 50; ++s) {
      std::string* record = raw.Find(chunks, s);
      auto env = DecodeRecord(*record);
      ASSERT_TRUE(env.ok());
      if (s == 35) env->set_payload("scrap=0");
      env->clear_hash();
      env->set_prev_hash(prev);
      std::string body = env->SerializeAsString();
      std::string hash = crypto::Sha256().Chain(prev, body);
      *record = FrameRecord(hash, body);
      prev = hash;
    }
    raw.WriteChunks(kVictim, chunks);
  }
  ExpectOnly(Verify(), 40, FailureKind::kAltered);
}

TEST_F(TamperTest, ForgedCheckpointSignatureIsDetected) {
  {
    RawDb raw(dir_.path());
    v1::Checkpoint c;
    ASSERT_TRUE(c.ParseFromString(raw.Get(raw.checkpoints(), EmbeddedEventKey(kVictim, 40))));
    // Claim a different head hash, signed with a key the attacker made.
    auto forger = crypto::SigningKey::FromSeed(std::string(32, 'x'));
    c.set_hash(std::string(32, '\x42'));
    c.set_signature(forger->Sign(CheckpointSigningBytes(c)));
    raw.Put(raw.checkpoints(), EmbeddedEventKey(kVictim, 40), c.SerializeAsString());
  }
  ExpectOnly(Verify(), 40, FailureKind::kBadSignature);
}

TEST_F(TamperTest, CorruptEnvelopeBytesAreReportedOnRead) {
  {
    RawDb raw(dir_.path());
    RawDb::Chunks chunks = raw.ReadChunks(kVictim);
    *raw.Find(chunks, 12) = "garbage";
    raw.WriteChunks(kVictim, chunks);
  }
  EmbeddedLogOptions o;
  o.data_dir = dir_.path();
  auto log = OpenEmbeddedLog(o);
  ASSERT_TRUE(log.ok());
  auto read = (*log)->ReadStream(kVictim, 1, 100);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(read.status().message().find("sequence 12"), std::string::npos);
  auto report = (*log)->Verify({});
  ASSERT_TRUE(report.ok());
  ExpectOnly(*report, 12, FailureKind::kAltered);
}

// Regression (issue 11.10): a flipped byte in a blob file made replay say
// "Blob CRC mismatch" without stream or sequence.
TEST_F(TamperTest, ADamagedBlobFileNamesStreamAndSequenceOnRead) {
  const std::filesystem::path blob = FlushedBlobFile();
  ASSERT_FALSE(blob.empty());
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    const auto size = std::filesystem::file_size(blob);
    f.seekg(static_cast<std::streamoff>(size / 2));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.write(&c, 1);
  }
  EmbeddedLogOptions o;
  o.data_dir = dir_.path();
  auto log = OpenEmbeddedLog(o);
  ASSERT_TRUE(log.ok()) << log.status();
  absl::Status failed;
  for (const StreamId& s : {kVictim, kBystander}) {
    auto read = (*log)->ReadStream(s, 1, 100);
    if (!read.ok()) failed = read.status();
  }
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(failed.message().find("scheduling/plant-"), std::string::npos) << failed;
  EXPECT_NE(failed.message().find("at sequence"), std::string::npos) << failed;
}

// A subscription resuming at a cursor continues the chain from the event
// before it: that event's own hash must check out, or the link to the
// first event read would go unchecked.
TEST_F(TamperTest, ASubscriptionResumingAfterADamagedEventStopsThere) {
  {
    RawDb raw(dir_.path());
    RawDb::Chunks chunks = raw.ReadChunks(kVictim);
    std::string* tenth = raw.Find(chunks, 10);
    ASSERT_NE(tenth, nullptr);
    const size_t at = tenth->rfind(std::string(50, 'j'));  // inside its payload
    ASSERT_NE(at, std::string::npos);
    (*tenth)[at + 10] = 'J';
    raw.WriteChunks(kVictim, chunks);
  }
  EmbeddedLogOptions o;
  o.data_dir = dir_.path();
  auto log = OpenEmbeddedLog(o);
  ASSERT_TRUE(log.ok()) << log.status();
  auto sub = (*log)->Subscribe("scheduling", Cursor{{kVictim.facility, 11}});
  ASSERT_TRUE(sub.ok()) << sub.status();
  auto events = (*sub)->Poll(1000, absl::ZeroDuration());
  ASSERT_FALSE(events.ok()) << "resumed past a damaged event without noticing";
  EXPECT_EQ(events.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(events.status().message().find("scheduling/plant-7 sequence 10"), std::string::npos)
      << events.status();
}

// Readers that check the chain read without RocksDB's blob CRC (the
// SHA-256 covers the same bytes): a flipped byte inside a stored event must
// still stop a subscription and a chain-checked read, naming the stream.
TEST_F(TamperTest, AFlippedEventByteInABlobFileStopsEveryReader) {
  const std::filesystem::path blob = FlushedBlobFile();
  ASSERT_FALSE(blob.empty());
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    // Inside a payload: 200 bytes of one letter (sample_events.h).
    const size_t at = bytes.find(std::string(150, 'c'));
    ASSERT_NE(at, std::string::npos);
    f.seekp(static_cast<std::streamoff>(at + 75));
    f.put('C');
  }
  EmbeddedLogOptions o;
  o.data_dir = dir_.path();
  auto log = OpenEmbeddedLog(o);
  ASSERT_TRUE(log.ok()) << log.status();
  auto sub = (*log)->Subscribe("scheduling", {});
  ASSERT_TRUE(sub.ok()) << sub.status();
  absl::Status polled;
  for (int i = 0; i < 100 && polled.ok(); ++i) {
    auto events = (*sub)->Poll(1000, absl::ZeroDuration());
    if (!events.ok()) {
      polled = events.status();
    } else if (events->empty()) {
      break;
    }
  }
  ASSERT_FALSE(polled.ok()) << "a subscription read an altered event without noticing";
  EXPECT_EQ(polled.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(polled.message().find("scheduling/plant-"), std::string::npos) << polled;
  EXPECT_NE(polled.message().find("sequence"), std::string::npos) << polled;
  // The chain-checked read of the audit path as well.
  absl::Status verified;
  for (const StreamId& s : {kVictim, kBystander}) {
    absl::Status v = ReadVerified(**log, s, 50, [](const Envelope&) {});
    if (!v.ok()) verified = v;
  }
  EXPECT_EQ(verified.code(), absl::StatusCode::kDataLoss) << verified;
}

// Regression (issue 11.3): deleting the events after a signed checkpoint,
// that checkpoint and rewriting the head row left verification at OK, and
// the dedup entries of the deleted events made resends "duplicates": the
// data could not be recovered. A local log cannot prove it was not rolled
// back; an auditor who kept a head detects it, and resends are recorded.
TEST(RollbackTest, AKeptHeadDetectsARollbackAndResendsAreRecordedAgain) {
  testing::TempDir dir;
  const StreamId stream{"scheduling", "plant-9"};
  const std::string head_key = stream.context + std::string(1, '\0') + stream.facility;
  auto observations = [&](uint64_t first) {
    AppendRequest r;
    r.context = stream.context;
    r.facility = stream.facility;
    for (uint64_t i = first; i < first + 10; ++i) {
      r.events.push_back(SampleEvent(absl::StrCat("count ", i), "gw-1", i));
    }
    return r;
  };
  auto open = [&] {
    EmbeddedLogOptions o;
    o.data_dir = dir.path();
    auto log = OpenEmbeddedLog(o);
    EXPECT_TRUE(log.ok()) << log.status();
    return std::move(*log);
  };
  std::string head_at_40;
  {
    auto log = open();
    for (uint64_t first = 1; first <= 31; first += 10) ASSERT_TRUE(log->Append(observations(first)).ok());
  }  // checkpoint at 40 on close
  {
    RawDb raw(dir.path());
    head_at_40 = raw.Get(raw.heads(), head_key);
  }
  {
    auto log = open();
    ASSERT_TRUE(log->Append(observations(41)).ok());
  }  // checkpoint at 50
  // The auditor verifies and keeps the heads.
  auto kept = VerifyEmbeddedLogDirectory(dir.path(), {});
  ASSERT_TRUE(kept.ok() && kept->ok());
  ASSERT_EQ(kept->heads.size(), 1u);
  EXPECT_EQ(kept->heads[0].sequence, 50u);
  std::vector<VerifiedHead> parsed;
  std::string error;
  ASSERT_TRUE(ParseHeadsJsonLines(HeadsToJsonLines(kept->heads), &parsed, &error)) << error;
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0].hash, kept->heads[0].hash);
  {
    RawDb raw(dir.path());
    RawDb::Chunks chunks = raw.ReadChunks(stream);
    chunks.erase(41);
    raw.WriteChunks(stream, chunks);
    raw.Delete(raw.checkpoints(), EmbeddedEventKey(stream, 50));
    raw.Put(raw.heads(), head_key, head_at_40);
  }
  // Without a kept head the rollback is undetectable: the log is consistent.
  auto plain = VerifyEmbeddedLogDirectory(dir.path(), {});
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->ok()) << plain->ToText();
  VerifyOptions with_kept;
  with_kept.trusted_heads = parsed;
  auto detected = VerifyEmbeddedLogDirectory(dir.path(), with_kept);
  ASSERT_TRUE(detected.ok());
  ASSERT_EQ(detected->failures.size(), 1u) << detected->ToText();
  EXPECT_EQ(detected->failures[0].kind, FailureKind::kRolledBack);
  EXPECT_EQ(detected->failures[0].sequence, 41u);
  {
    // The gateway resends what was lost: recorded again, not "duplicates".
    auto log = open();
    auto resent = log->Append(observations(41));
    ASSERT_TRUE(resent.ok()) << resent.status();
    for (const auto& e : resent->events) EXPECT_FALSE(e.duplicate);
    EXPECT_EQ(resent->head_sequence, 50u);
    // And a resend of what survived is still a duplicate.
    auto again = log->Append(observations(31));
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->events[0].duplicate);
  }
  // The recorded-again tail is another history than the kept one: a fork.
  detected = VerifyEmbeddedLogDirectory(dir.path(), with_kept);
  ASSERT_TRUE(detected.ok());
  ASSERT_EQ(detected->failures.size(), 1u) << detected->ToText();
  EXPECT_EQ(detected->failures[0].kind, FailureKind::kForked);
  EXPECT_EQ(detected->failures[0].sequence, 50u);
}

}  // namespace
}  // namespace takt::eventlog
