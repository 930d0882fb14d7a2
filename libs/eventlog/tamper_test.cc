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
    // 50 events per stream; checkpoints at 20, 40 and 50 (on close).
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
  std::string key = EmbeddedEventKey(kVictim, 17);
  std::string original;
  {
    RawDb raw(dir_.path());
    original = raw.Get(raw.events(), key);
  }
  // Flip each byte position in turn (the record's frame, hash and body).
  for (size_t i = 0; i < original.size(); i += 7) {
    {
      RawDb raw(dir_.path());
      std::string changed = original;
      changed[i] ^= 0x20;
      raw.Put(raw.events(), key, changed);
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
    raw.Delete(raw.events(), EmbeddedEventKey(kVictim, 23));
  }
  ExpectOnly(Verify(), 23, FailureKind::kMissing);
}

TEST_F(TamperTest, SwappedEventsAreReordered) {
  {
    RawDb raw(dir_.path());
    std::string a = raw.Get(raw.events(), EmbeddedEventKey(kVictim, 30));
    std::string b = raw.Get(raw.events(), EmbeddedEventKey(kVictim, 31));
    raw.Put(raw.events(), EmbeddedEventKey(kVictim, 30), b);
    raw.Put(raw.events(), EmbeddedEventKey(kVictim, 31), a);
  }
  ExpectOnly(Verify(), 30, FailureKind::kReordered);
}

TEST_F(TamperTest, TailCutBehindASignedHeadIsTruncated) {
  {
    RawDb raw(dir_.path());
    // Remove the last 5 events and fix up the head record too, as an attacker
    // would; only the signed checkpoint at 50 remembers the real head.
    for (uint64_t s = 46; s <= 50; ++s) raw.Delete(raw.events(), EmbeddedEventKey(kVictim, s));
    raw.Delete(raw.heads(), kVictim.context + std::string(1, '\0') + kVictim.facility);
  }
  ExpectOnly(Verify(), 46, FailureKind::kTruncated);
}

TEST_F(TamperTest, RewrittenChainIsCaughtByTheSignedCheckpoint) {
  // Rewrite event 35 and re-hash the chain from there to the end: every hash
  // is self-consistent, but the signed head at 40 and 50 no longer match.
  {
    RawDb raw(dir_.path());
    std::string prev;
    {
      auto env = DecodeRecord(raw.Get(raw.events(), EmbeddedEventKey(kVictim, 34)));
      ASSERT_TRUE(env.ok());
      prev = env->hash();
    }
    for (uint64_t s = 35; s <= 50; ++s) {
      auto env = DecodeRecord(raw.Get(raw.events(), EmbeddedEventKey(kVictim, s)));
      ASSERT_TRUE(env.ok());
      if (s == 35) env->set_payload("scrap=0");
      env->clear_hash();
      env->set_prev_hash(prev);
      std::string body = env->SerializeAsString();
      std::string hash = crypto::Sha256().Chain(prev, body);
      raw.Put(raw.events(), EmbeddedEventKey(kVictim, s), FrameRecord(hash, body));
      prev = hash;
    }
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
    raw.Put(raw.events(), EmbeddedEventKey(kVictim, 12), "garbage");
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
