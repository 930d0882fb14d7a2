// Tamper evidence: edit the embedded log's RocksDB files behind Takt's back,
// the way an attacker with disk access would, and check that verification
// names the right stream, sequence and kind.
#include <map>

#include "gtest/gtest.h"
#include "libs/crypto/ed25519.h"
#include "libs/crypto/sha256.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/record.h"
#include "libs/eventlog/sample_events.h"
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
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
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

}  // namespace
}  // namespace takt::eventlog
