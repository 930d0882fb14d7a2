#include "libs/eventlog/embedded_log.h"

#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/eventlog/sample_events.h"
#include "libs/testing/temp_dir.h"

namespace takt::eventlog {
namespace {

std::unique_ptr<EventLog> Open(const std::string& dir, uint64_t checkpoint_interval = 1024) {
  EmbeddedLogOptions o;
  o.data_dir = dir;
  o.checkpoint_interval = checkpoint_interval;
  auto log = OpenEmbeddedLog(o);
  EXPECT_TRUE(log.ok()) << log.status();
  return log.ok() ? std::move(*log) : nullptr;
}

TEST(EmbeddedLogTest, AppendReadBackAndVerify) {
  testing::TempDir dir;
  auto log = Open(dir.path());
  auto r = log->Append(SampleAppend("plant-1", 5, 200, 0));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->head_sequence, 5u);
  EXPECT_EQ(r->events[4].position.partition, "plant-1");
  EXPECT_EQ(r->events[4].position.offset, 5u);
  auto events = log->ReadStream({"scheduling", "plant-1"}, 2, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ((*events)[0].envelope.sequence(), 2u);
  EXPECT_EQ((*events)[0].envelope.facility(), "plant-1");
  EXPECT_EQ((*events)[0].envelope.payload(), std::string(200, 'b'));
  EXPECT_EQ((*events)[0].envelope.event_id(), r->events[1].event_id);
  EXPECT_EQ((*events)[0].envelope.hash().size(), 32u);
  EXPECT_EQ((*events)[1].envelope.prev_hash(), (*events)[0].envelope.hash());
  EXPECT_TRUE((*events)[0].envelope.has_recorded_time());
  auto report = log->Verify({});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->ToText();
  EXPECT_EQ(report->events_checked, 5u);
}

TEST(EmbeddedLogTest, ConflictingExpectedSequenceWritesNothing) {
  testing::TempDir dir;
  auto log = Open(dir.path());
  ASSERT_TRUE(log->Append(SampleAppend("f", 3, 10, 0)).ok());
  auto r = log->Append(SampleAppend("f", 2, 10, 1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  auto heads = log->Heads("scheduling");
  ASSERT_TRUE(heads.ok());
  ASSERT_EQ(heads->size(), 1u);
  EXPECT_EQ((*heads)[0].sequence, 3u);
  EXPECT_EQ(log->ReadStream({"scheduling", "f"}, 1, 100)->size(), 3u);
}

TEST(EmbeddedLogTest, BadInputGetsClearErrorsAndWritesNothing) {
  testing::TempDir dir;
  auto log = Open(dir.path());
  AppendRequest empty_facility = SampleAppend("", 1);
  EXPECT_EQ(log->Append(empty_facility).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->Append(SampleAppend("f", 20, kMaxEventBytes)).status().code(),
            absl::StatusCode::kInvalidArgument);
  AppendRequest bad_context = SampleAppend("f", 1);
  bad_context.context = "Bad Context";
  EXPECT_EQ(log->Append(bad_context).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->Append(SampleAppend("f", 1, 10, 5)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(log->Heads("")->empty());
  EXPECT_EQ(log->ReadStream({"scheduling", ""}, 1, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EmbeddedLogTest, DuplicatesAreRecognisedAcrossRestarts) {
  testing::TempDir dir;
  AppendRequest obs;
  obs.context = "scheduling";
  obs.facility = "f";
  obs.events = {SampleEvent("count=5", "gw-7", 100), SampleEvent("count=6", "gw-7", 101)};
  AppendRequest cmd = SampleAppend("f", 2);
  for (auto& e : cmd.events) e.set_request_id("create-wo-1");
  {
    auto log = Open(dir.path());
    ASSERT_TRUE(log->Append(obs).ok());
    ASSERT_TRUE(log->Append(cmd).ok());
    auto resend = log->Append(obs);
    ASSERT_TRUE(resend.ok());
    EXPECT_TRUE(resend->events[0].duplicate);
    EXPECT_EQ(resend->events[1].sequence, 2u);
  }
  auto log = Open(dir.path());
  auto resend_obs = log->Append(obs);
  ASSERT_TRUE(resend_obs.ok()) << resend_obs.status();
  EXPECT_TRUE(resend_obs->events[0].duplicate);
  EXPECT_EQ(resend_obs->events[0].sequence, 1u);
  auto resend_cmd = log->Append(cmd);
  ASSERT_TRUE(resend_cmd.ok());
  EXPECT_TRUE(resend_cmd->events[1].duplicate);
  EXPECT_EQ(resend_cmd->events[1].sequence, 4u);
  EXPECT_EQ(log->Heads("scheduling")->at(0).sequence, 4u);
  // Same keys, other content: refused after the restart too.
  obs.events[1].set_payload("count=7");
  EXPECT_EQ(log->Append(obs).status().code(), absl::StatusCode::kAlreadyExists);
  cmd.events[0].set_payload("other");
  EXPECT_EQ(log->Append(cmd).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(log->Heads("scheduling")->at(0).sequence, 4u);
}

TEST(EmbeddedLogTest, ConcurrentAppendersGetGaplessDistinctSequences) {
  testing::TempDir dir;
  auto log = Open(dir.path(), 50);
  constexpr int kThreads = 16;
  constexpr int kPerThread = 40;
  std::vector<std::thread> threads;
  std::vector<std::vector<uint64_t>> seqs(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = log->Append(SampleAppend(t % 2 ? "odd" : "even", 1, 50));
        ASSERT_TRUE(r.ok()) << r.status();
        seqs[t].push_back(r->events[0].sequence);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> odd, even;
  for (int t = 0; t < kThreads; ++t) {
    for (uint64_t s : seqs[t]) EXPECT_TRUE((t % 2 ? odd : even).insert(s).second);
  }
  EXPECT_EQ(*odd.rbegin(), odd.size());
  EXPECT_EQ(*even.rbegin(), even.size());
  auto report = log->Verify({});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->ToText();
  EXPECT_EQ(report->events_checked, kThreads * kPerThread);
  EXPECT_GE(report->checkpoints_checked, 2u);
}

// Large groups (>= 256 KiB) go to the writer thread while the next one is
// planned; small ones are written by the planner, or by a lone appender on its
// own thread. Mixed, they must still land in planning order: gapless
// sequences, each append's events consecutive, and an intact chain.
TEST(EmbeddedLogTest, LargeAndSmallGroupsMixedKeepOrderAndChain) {
  testing::TempDir dir;
  auto log = Open(dir.path(), 100);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 12;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::pair<uint64_t, size_t>>> appends(kThreads);  // first seq, count
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every third append of the even threads is 300 events of 1,000 bytes.
        const bool large = t % 2 == 0 && i % 3 == 0;
        const size_t count = large ? 300 : 1 + (i % 4);
        auto r = log->Append(SampleAppend(t % 4 < 2 ? "a" : "b", count, large ? 1000 : 60));
        ASSERT_TRUE(r.ok()) << r.status();
        ASSERT_EQ(r->events.size(), count);
        for (size_t k = 1; k < count; ++k) {
          EXPECT_EQ(r->events[k].sequence, r->events[0].sequence + k);
        }
        appends[t].push_back({r->events[0].sequence, count});
      }
    });
  }
  for (auto& th : threads) th.join();
  std::map<std::string, std::set<uint64_t>> seen;
  uint64_t total = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (const auto& [first, count] : appends[t]) {
      for (size_t k = 0; k < count; ++k) {
        EXPECT_TRUE(seen[t % 4 < 2 ? "a" : "b"].insert(first + k).second);
      }
      total += count;
    }
  }
  for (const auto& [facility, seqs] : seen) {
    EXPECT_EQ(*seqs.rbegin(), seqs.size()) << facility;
    auto events = log->ReadStream({"scheduling", facility}, 1, seqs.size() + 10);
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_EQ(events->size(), seqs.size()) << facility;
  }
  auto report = log->Verify({});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->ToText();
  EXPECT_EQ(report->events_checked, total);
}

// StartAppend (a gateway stream with batches in flight): appends started one
// after the other without waiting are sequenced in the order started; each
// one's result is its own; a resend among them is a duplicate of the one
// before it, a conflicting one is refused alone; one dropped without Wait
// is still made durable.
TEST(EmbeddedLogTest, StartedAppendsAreSequencedInTheOrderStarted) {
  testing::TempDir dir;
  auto log = Open(dir.path(), 16);
  auto request = [](std::vector<Envelope> events) {
    AppendRequest r;
    r.context = "scheduling";
    r.facility = "f";
    r.events = std::move(events);
    return r;
  };
  std::vector<std::unique_ptr<AppendInProgress>> started;
  for (int i = 0; i < 40; ++i) {
    started.push_back(log->StartAppend(request({SampleEvent(absl::StrCat("n=", i), "gw", i + 1)})));
  }
  // A resend of the last one, and a reuse of source sequence 5 with other content.
  started.push_back(log->StartAppend(request({SampleEvent("n=39", "gw", 40)})));
  started.push_back(log->StartAppend(request({SampleEvent("other", "gw", 5), SampleEvent("n=40", "gw", 41)})));
  started.push_back(log->StartAppend(request({SampleEvent("n=41", "gw", 42)})));
  started[10].reset();  // never waited for
  for (int i = 0; i < 40; ++i) {
    if (i == 10) continue;
    auto r = started[i]->Wait();
    ASSERT_TRUE(r.ok()) << i << ": " << r.status();
    EXPECT_EQ(r->events[0].sequence, static_cast<uint64_t>(i + 1));
    EXPECT_FALSE(r->events[0].duplicate);
  }
  auto resend = started[40]->Wait();
  ASSERT_TRUE(resend.ok()) << resend.status();
  EXPECT_TRUE(resend->events[0].duplicate);
  EXPECT_EQ(resend->events[0].sequence, 40u);
  EXPECT_EQ(started[41]->Wait().status().code(), absl::StatusCode::kAlreadyExists);
  auto last = started[42]->Wait();
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->events[0].sequence, 41u);
  auto events = log->ReadStream({"scheduling", "f"}, 1, 100);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 41u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ((*events)[i].envelope.payload(), absl::StrCat("n=", i));
  EXPECT_EQ((*events)[40].envelope.payload(), "n=41");
  auto report = log->Verify({});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->ToText();
}

// A refused append comes back from Wait(), and nothing of it is written.
TEST(EmbeddedLogTest, AStartedAppendThatIsRefusedSaysWhyInWait) {
  testing::TempDir dir;
  auto log = Open(dir.path());
  AppendRequest bad = SampleAppend("f", 1);
  bad.context = "no such context!";
  EXPECT_EQ(log->StartAppend(std::move(bad))->Wait().status().code(), absl::StatusCode::kInvalidArgument);
  AppendRequest empty = SampleAppend("f", 0);
  EXPECT_EQ(log->StartAppend(std::move(empty))->Wait().status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(log->Heads("scheduling")->empty());
}

TEST(EmbeddedLogTest, SubscriptionDeliversAllThenWaitsForNew) {
  testing::TempDir dir;
  auto log = Open(dir.path());
  ASSERT_TRUE(log->Append(SampleAppend("a", 3)).ok());
  ASSERT_TRUE(log->Append(SampleAppend("b", 2)).ok());
  AppendRequest other = SampleAppend("a", 1);
  other.context = "quality";
  ASSERT_TRUE(log->Append(other).ok());
  auto sub = log->Subscribe("scheduling", {});
  ASSERT_TRUE(sub.ok());
  auto first = (*sub)->Poll(100, absl::Milliseconds(10));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->size(), 5u);
  EXPECT_EQ((*sub)->cursor().at("a"), 4u);
  EXPECT_EQ((*sub)->cursor().at("b"), 3u);
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(50));
    ASSERT_TRUE(log->Append(SampleAppend("b", 1)).ok());
  });
  auto second = (*sub)->Poll(100, absl::Seconds(5));
  writer.join();
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].position.partition, "b");
  EXPECT_EQ((*second)[0].position.offset, 3u);
  // A new subscription resumes from a stored cursor.
  auto resumed = log->Subscribe("scheduling", Cursor{{"a", 3}, {"b", 4}});
  auto rest = (*resumed)->Poll(100, absl::Milliseconds(1));
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].envelope.sequence(), 3u);
}

// PollInto decodes into the envelopes of a vector handed back (the rollups
// projection recycles its batches): the same events as a fresh Poll,
// nothing left of what the vector held before, cut to what was read.
TEST(EmbeddedLogTest, PollIntoARecycledVectorEqualsAFreshPoll) {
  testing::TempDir dir;
  auto log = Open(dir.path());
  ASSERT_TRUE(log->Append(SampleAppend("a", 3, 300)).ok());
  ASSERT_TRUE(log->Append(SampleAppend("b", 2, 20)).ok());
  auto fresh = log->Subscribe("scheduling", {});
  auto expected = (*fresh)->Poll(100, absl::Milliseconds(10));
  ASSERT_TRUE(expected.ok());
  ASSERT_EQ(expected->size(), 5u);
  // A vector from an earlier batch: more events, other content.
  std::vector<LoggedEvent> recycled(9);
  for (LoggedEvent& e : recycled) {
    e.envelope.set_payload(std::string(1000, 'x'));
    e.envelope.set_request_id("stale");
    e.envelope.mutable_occurred_time()->set_seconds(42);
    e.position = {"stale", 99};
  }
  auto sub = log->Subscribe("scheduling", {});
  ASSERT_TRUE((*sub)->PollInto(100, absl::Milliseconds(10), &recycled).ok());
  ASSERT_EQ(recycled.size(), expected->size());
  for (size_t i = 0; i < recycled.size(); ++i) {
    EXPECT_EQ(recycled[i].envelope.SerializeAsString(), (*expected)[i].envelope.SerializeAsString()) << i;
    EXPECT_EQ(recycled[i].position.partition, (*expected)[i].position.partition);
    EXPECT_EQ(recycled[i].position.offset, (*expected)[i].position.offset);
  }
  // Nothing new: the vector comes back empty.
  ASSERT_TRUE((*sub)->PollInto(100, absl::Milliseconds(1), &recycled).ok());
  EXPECT_TRUE(recycled.empty());
}

TEST(EmbeddedLogTest, SecondOpenOfTheSameDirectoryIsRefused) {
  testing::TempDir dir;
  auto log = Open(dir.path());
  EmbeddedLogOptions o;
  o.data_dir = dir.path();
  auto second = OpenEmbeddedLog(o);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(EmbeddedLogTest, CheckpointsAreSignedAndVerifiableOffline) {
  testing::TempDir dir;
  std::optional<crypto::KeyRing> keys;
  {
    auto log = Open(dir.path(), 10);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Append(SampleAppend("f", 7)).ok());
    keys = log->keys();
  }  // close signs the final head
  VerifyOptions vo;
  vo.keys = keys;
  auto report = VerifyEmbeddedLogDirectory(dir.path(), vo);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->ToText();
  EXPECT_EQ(report->events_checked, 35u);
  EXPECT_EQ(report->checkpoints_checked, 3u);  // at 14 and 28 (interval), 35 (close)
  EXPECT_THAT(report->ToJson(), ::testing::HasSubstr("\"ok\":true"));
  // With some other key every checkpoint fails as a bad signature.
  vo.keys = crypto::KeyRing(std::string(32, '\x01'));
  auto wrong = VerifyEmbeddedLogDirectory(dir.path(), vo);
  ASSERT_TRUE(wrong.ok());
  ASSERT_EQ(wrong->failures.size(), 1u);
  EXPECT_EQ(wrong->failures[0].kind, FailureKind::kBadSignature);
}

TEST(EmbeddedLogTest, ARotatedKeySignsFromTheRotationOnAndTheOldCheckpointsStillVerify) {
  testing::TempDir dir;
  std::optional<crypto::KeyRing> first;
  {
    auto log = Open(dir.path(), 10);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Append(SampleAppend("f", 7)).ok());
    first = log->keys();
  }
  auto ring = crypto::RotateSigningKey(dir.path() + "/keys/checkpoint.key", absl::Now());
  ASSERT_TRUE(ring.ok()) << ring.status();
  {
    auto log = Open(dir.path(), 10);
    EXPECT_EQ(log->keys().Text(), ring->Text());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Append(SampleAppend("f", 7)).ok());
  }
  // The log's own ring (keys/checkpoint.pub) verifies checkpoints of both keys.
  auto report = VerifyEmbeddedLogDirectory(dir.path(), {});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->ToText();
  EXPECT_EQ(report->events_checked, 42u);
  EXPECT_GE(report->checkpoints_checked, 4u);
  // An auditor who kept only the first key sees the new key's checkpoints as
  // unknown until she takes the rotation (signed by the key she trusts).
  VerifyOptions old_only;
  old_only.keys = first;
  auto stale = VerifyEmbeddedLogDirectory(dir.path(), old_only);
  ASSERT_TRUE(stale.ok());
  ASSERT_FALSE(stale->ok());
  EXPECT_EQ(stale->failures[0].kind, FailureKind::kBadSignature);
  EXPECT_THAT(stale->failures[0].detail, ::testing::HasSubstr("not in the trusted key ring"));
  EXPECT_TRUE(first->IsPrefixOf(*ring));

  // A rotation on a machine whose clock is an hour behind still starts
  // after the newest checkpoint, so the old key's checkpoints stay valid.
  auto behind = RotateEmbeddedLogKey(dir.path(), absl::Now() - absl::Hours(1));
  ASSERT_TRUE(behind.ok()) << behind.status();
  auto newest = NewestCheckpointTime(dir.path());
  ASSERT_TRUE(newest.ok());
  EXPECT_GT(behind->current().not_before, *newest);
  auto still = VerifyEmbeddedLogDirectory(dir.path(), {});
  ASSERT_TRUE(still.ok());
  EXPECT_TRUE(still->ok()) << still->ToText();
}

}  // namespace
}  // namespace takt::eventlog
