#include "libs/eventlog/sequencer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/crypto/sha256.h"
#include "libs/eventlog/record.h"
#include "libs/eventlog/sample_events.h"

namespace takt::eventlog {
namespace {

// Storage stand-in: what a backend would have persisted.
class MapSource : public StateSource {
 public:
  StreamState LoadStream(const StreamId& id) override {
    auto it = streams.find(id);
    return it == streams.end() ? StreamState{} : it->second;
  }
  std::optional<DedupEntry> LoadDedup(const StreamId& id, const std::string& key) override {
    auto it = dedup.find({id, key});
    if (it == dedup.end()) return std::nullopt;
    return it->second;
  }
  // Applies a group as a backend would after a durable write.
  void Apply(const WriteGroup& g) {
    for (const auto& [id, st] : g.streams()) streams[id] = st;
    for (const auto& [id, entries] : g.dedup()) {
      for (const auto& [k, e] : entries) dedup[{id, k}] = e;
    }
  }
  std::map<StreamId, StreamState> streams;
  std::map<std::pair<StreamId, std::string>, DedupEntry> dedup;
};

// A planned record, copied out of the group.
struct Record {
  uint64_t sequence;
  std::string record;
};

absl::StatusOr<AppendResult> PlanOne(MapSource& src, AppendRequest r,
                                     std::vector<Record>* records = nullptr) {
  auto prepared = PrepareAppend(std::move(r), absl::Now());
  if (!prepared.ok()) return prepared.status();
  WriteGroup g(&src);
  auto result = g.Plan(*prepared);
  if (result.ok()) src.Apply(g);
  if (records) {
    records->clear();
    for (const auto& pr : g.records()) records->push_back({pr.sequence, std::string(pr.record)});
  }
  return result;
}

AppendRequest WithRequestId(AppendRequest r, const std::string& id) {
  for (auto& e : r.events) e.set_request_id(id);
  return r;
}

TEST(SequencerTest, AssignsGaplessSequencesAndChainsHashes) {
  MapSource src;
  std::vector<Record> records;
  auto r = PlanOne(src, SampleAppend("f1", 3), &records);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->head_sequence, 3u);
  ASSERT_EQ(records.size(), 3u);
  std::string prev = ZeroHash();
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(records[i].sequence, i + 1);
    std::string_view hash, body, prev_in_body;
    uint64_t seq;
    ASSERT_TRUE(SplitRecord(records[i].record, &hash, &body));
    ASSERT_TRUE(ScanBody(body, &seq, &prev_in_body));
    EXPECT_EQ(seq, i + 1);
    EXPECT_EQ(prev_in_body, prev);
    EXPECT_EQ(hash, crypto::Sha256().Chain(prev, body));
    prev = std::string(hash);
  }
  const StreamId f1{"scheduling", "f1"};
  EXPECT_EQ(src.streams[f1].head_hash, prev);
}

TEST(SequencerTest, ExpectedSequenceConflictWritesNothing) {
  MapSource src;
  ASSERT_TRUE(PlanOne(src, SampleAppend("f1", 2, 10, 0)).ok());
  std::vector<Record> records;
  auto r = PlanOne(src, SampleAppend("f1", 1, 10, 1), &records);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("is at 2"));
  EXPECT_TRUE(records.empty());
  EXPECT_TRUE(PlanOne(src, SampleAppend("f1", 1, 10, 2)).ok());
}

TEST(SequencerTest, RequestIdResendReturnsOriginalPositions) {
  MapSource src;
  auto first = PlanOne(src, WithRequestId(SampleAppend("f1", 2), "req-1"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(PlanOne(src, SampleAppend("f1", 1)).ok());
  std::vector<Record> records;
  // The resend carries a stale expected sequence: still acknowledged.
  auto again = PlanOne(src, WithRequestId(SampleAppend("f1", 2, 200, 0), "req-1"), &records);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(records.empty());
  ASSERT_EQ(again->events.size(), 2u);
  EXPECT_EQ(again->events[0].sequence, 1u);
  EXPECT_EQ(again->events[1].sequence, 2u);
  EXPECT_TRUE(again->events[0].duplicate);
  EXPECT_EQ(again->head_sequence, 3u);
}

TEST(SequencerTest, RequestIdWithOtherContentIsRefused) {
  MapSource src;
  ASSERT_TRUE(PlanOne(src, WithRequestId(SampleAppend("f1", 2), "req-1")).ok());
  auto other = PlanOne(src, WithRequestId(SampleAppend("f1", 2, 201), "req-1"));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  auto fewer = PlanOne(src, WithRequestId(SampleAppend("f1", 1), "req-1"));
  EXPECT_EQ(fewer.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(SequencerTest, ObservationResendsAreAcknowledgedNotAppended) {
  MapSource src;
  AppendRequest a;
  a.context = "scheduling";
  a.facility = "f1";
  a.events = {SampleEvent("p1", "gw-1", 10), SampleEvent("p2", "gw-1", 11)};
  ASSERT_TRUE(PlanOne(src, a).ok());
  // Resend 11 (out of order, after a reconnect) with a new 12 and a copy of 12.
  AppendRequest b = a;
  b.events = {SampleEvent("p3", "gw-1", 12), SampleEvent("p2", "gw-1", 11),
              SampleEvent("p3", "gw-1", 12)};
  std::vector<Record> records;
  auto r = PlanOne(src, b, &records);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(r->events[0].sequence, 3u);
  EXPECT_FALSE(r->events[0].duplicate);
  EXPECT_EQ(r->events[1].sequence, 2u);
  EXPECT_TRUE(r->events[1].duplicate);
  EXPECT_EQ(r->events[2].sequence, 3u);
  EXPECT_TRUE(r->events[2].duplicate);
  // Same source sequence, other content: refused, nothing written.
  AppendRequest c = a;
  c.events = {SampleEvent("p4", "gw-1", 13), SampleEvent("changed", "gw-1", 10)};
  auto refused = PlanOne(src, c, &records);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("events[1]"));
  const StreamId f1{"scheduling", "f1"};
  EXPECT_EQ(src.streams[f1].head, 3u);
}

TEST(SequencerTest, AResendRelayedByAnotherActorIsStillADuplicate) {
  MapSource src;
  AppendRequest a;
  a.context = "scheduling";
  a.facility = "f1";
  a.events = {SampleEvent("p1", "gw-1", 10)};
  a.events[0].set_actor("peer:ipv4:10.0.0.1");
  ASSERT_TRUE(PlanOne(src, a).ok());
  a.events[0].set_actor("peer:ipv4:10.0.0.2");
  auto again = PlanOne(src, a);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->events[0].duplicate);
}

TEST(SequencerTest, BadInputIsRejectedWithTheFieldNamed) {
  AppendRequest r = SampleAppend("f1", 1);
  r.facility = "";
  EXPECT_THAT(std::string(PrepareAppend(r, absl::Now()).status().message()),
              ::testing::HasSubstr("facility"));
  r = SampleAppend("f1", 0);
  EXPECT_EQ(PrepareAppend(r, absl::Now()).status().code(), absl::StatusCode::kInvalidArgument);
  r = SampleAppend("f1", kMaxEventsPerAppend + 1, 1);
  EXPECT_EQ(PrepareAppend(r, absl::Now()).status().code(), absl::StatusCode::kInvalidArgument);
  r = SampleAppend("f1", 1, kMaxEventBytes + 1);
  EXPECT_THAT(std::string(PrepareAppend(r, absl::Now()).status().message()),
              ::testing::HasSubstr("events[0]"));
  r = SampleAppend("f1", 10, kMaxEventBytes);
  EXPECT_THAT(std::string(PrepareAppend(r, absl::Now()).status().message()),
              ::testing::HasSubstr("limit"));
  r = SampleAppend("f1", 2);
  r.events[1].set_request_id("x");
  EXPECT_EQ(PrepareAppend(r, absl::Now()).status().code(), absl::StatusCode::kInvalidArgument);
  r = SampleAppend("f1", 1);
  r.events[0].clear_event_type();
  EXPECT_EQ(PrepareAppend(r, absl::Now()).status().code(), absl::StatusCode::kInvalidArgument);
  r = SampleAppend("f1", 1);
  r.expected_sequence = -2;
  EXPECT_EQ(PrepareAppend(r, absl::Now()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SequencerTest, DedupEntryRoundTrip) {
  DedupEntry e{7, 3, 99, std::string(32, 'd')};
  DedupEntry back;
  ASSERT_TRUE(DecodeDedupEntry(EncodeDedupEntry(e), &back));
  EXPECT_EQ(back.first_sequence, 7u);
  EXPECT_EQ(back.count, 3u);
  EXPECT_EQ(back.first_offset, 99u);
  EXPECT_EQ(back.digest, e.digest);
  EXPECT_FALSE(DecodeDedupEntry("short", &back));
}

}  // namespace
}  // namespace takt::eventlog

namespace takt::eventlog {
namespace {

// The append path digests envelopes in place (no copy); the digest must be
// the one stored dedup entries were made with, and the envelope unchanged.
TEST(SequencerTest, AnInPlaceDigestEqualsTheCopyingOneAndLeavesTheEnvelopeAsItWas) {
  Envelope full = SampleEvent(std::string(300, 'p'), "plc-7", 42);
  full.set_sequence(9);
  full.set_prev_hash(std::string(32, '\x01'));
  full.set_hash(std::string(32, '\x02'));
  full.set_event_id("0b7d3c8e-1f00-4a51-9a52-3f2f7f7c0001");
  full.mutable_recorded_time()->set_seconds(1'800'000'000);
  full.set_actor("gateway-3");
  full.set_context("scheduling");
  full.set_facility("plant-1");
  Envelope bare = SampleEvent("x", "plc-8", 1);
  bare.clear_actor();
  for (Envelope e : {full, bare}) {
    const std::string before = SerializeDeterministic(e);
    const bool had_recorded = e.has_recorded_time();
    const std::string copying = ContentDigest(e);
    EXPECT_EQ(ContentDigestInPlace(e), copying);
    EXPECT_EQ(SerializeDeterministic(e), before);
    EXPECT_EQ(e.has_recorded_time(), had_recorded);
  }
  // Only the excluded fields are excluded: the payload still counts.
  Envelope other = full;
  other.set_payload("different");
  EXPECT_NE(ContentDigestInPlace(other), ContentDigest(full));
}

}  // namespace
}  // namespace takt::eventlog
