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

// The append path digests an envelope from the bytes it stores; the digest
// must be the one stored dedup entries were made with (ContentDigest of
// the envelope), whatever fields are set, unknown fields included.
TEST(SequencerTest, ADigestOfTheSerializedEnvelopeEqualsTheContentDigest) {
  Envelope full = SampleEvent(std::string(300, 'p'), "plc-7", 42);
  full.set_sequence(9);
  full.set_prev_hash(std::string(32, '\x01'));
  full.set_hash(std::string(32, '\x02'));
  full.set_event_id("0b7d3c8e-1f00-4a51-9a52-3f2f7f7c0001");
  full.mutable_recorded_time()->set_seconds(1'800'000'000);
  full.set_actor("gateway-3");
  full.set_context("scheduling");
  full.set_facility("plant-1");
  full.set_correlation_id("c-1");
  full.set_request_fingerprint(std::string(32, '\x03'));
  Envelope bare = SampleEvent("", "plc-8", 1);
  bare.clear_actor();
  Envelope keyed_by_request = SampleEvent(std::string(70000, 'q'));
  keyed_by_request.set_request_id("create-wo-1");
  keyed_by_request.set_response("done");
  Envelope with_unknown = full;
  // Field 99 (length-delimited) and field 100 (varint), unknown to the
  // Envelope: kept and digested like known fields.
  ASSERT_TRUE(with_unknown.MergeFromString(std::string("\x9a\x06\x03" "abc" "\xa0\x06\x07", 9)));
  ASSERT_FALSE(with_unknown.GetReflection()->GetUnknownFields(with_unknown).empty());
  Envelope only_excluded;
  only_excluded.set_event_id("e");
  only_excluded.set_actor("a");
  for (const Envelope& e : {full, bare, keyed_by_request, with_unknown, only_excluded}) {
    const std::string expected = ContentDigest(e);
    std::optional<std::string> digest = ContentDigestOfSerialized(e.SerializeAsString());
    ASSERT_TRUE(digest.has_value()) << e.ShortDebugString().substr(0, 200);
    EXPECT_EQ(*digest, expected) << e.ShortDebugString().substr(0, 200);
    // As PrepareAppend stores it (sequence, prev_hash and hash cleared).
    Envelope stored = e;
    stored.clear_sequence();
    stored.clear_prev_hash();
    stored.clear_hash();
    EXPECT_EQ(ContentDigestOfSerialized(stored.SerializeAsString()), expected);
  }
  // Only the excluded fields are excluded: the payload and the source count.
  Envelope other = full;
  other.set_payload("different");
  EXPECT_NE(ContentDigestOfSerialized(other.SerializeAsString()), ContentDigest(full));
  other = full;
  other.set_source_sequence(43);
  EXPECT_NE(ContentDigestOfSerialized(other.SerializeAsString()), ContentDigest(full));
  // Bytes it cannot walk: cut inside a field, a length past the end, a group.
  const std::string bytes = full.SerializeAsString();
  EXPECT_EQ(ContentDigestOfSerialized(bytes.substr(0, bytes.size() - 5)), std::nullopt);
  EXPECT_EQ(ContentDigestOfSerialized(std::string("\x1a\x7f", 2)), std::nullopt);
  EXPECT_EQ(ContentDigestOfSerialized(std::string("\x0b\x0c", 2)), std::nullopt);
}

// What a prepared event carries is the content digest of the envelope as
// the caller sent it (so a resend matches what the log stored before).
TEST(SequencerTest, APreparedEventCarriesTheContentDigestOfItsEnvelope) {
  AppendRequest r = SampleAppend("plant-1", 0);
  r.events.push_back(SampleEvent("count=5", "gw-7", 100));
  r.events.push_back(SampleEvent(std::string(5000, 'x'), "gw-7", 101));
  r.events[1].set_actor("relay-2");
  Envelope expected0 = r.events[0];
  Envelope expected1 = r.events[1];
  for (Envelope* e : {&expected0, &expected1}) {
    e->set_context("scheduling");
    e->set_facility("plant-1");
  }
  auto prepared = PrepareAppend(r, absl::FromUnixSeconds(1'800'000'000));
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  ASSERT_EQ(prepared->events.size(), 2u);
  EXPECT_EQ(prepared->events[0].digest, ContentDigest(expected0));
  EXPECT_EQ(prepared->events[1].digest, ContentDigest(expected1));
}

}  // namespace
}  // namespace takt::eventlog
