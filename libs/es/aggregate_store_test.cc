#include "libs/es/aggregate_store.h"

#include "gtest/gtest.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/testing/temp_dir.h"
#include "takt/eventlog/v1/envelope.pb.h"

namespace takt::es {
namespace {

// A counter aggregate: events are decimal increments in the payload.
struct Counter {
  int64_t value = 0;
  absl::Status Apply(const Event& e) {
    if (e.type != "test.Add") return absl::InvalidArgumentError("unknown event " + e.type);
    value += std::stoll(e.payload);
    return absl::OkStatus();
  }
};

// Requests and responses are envelopes (any message with a request_id
// field would do): request.request_id and request.payload = the increment;
// the response's sequence field carries the value after the command.
using Message = eventlog::Envelope;

class AggregateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    eventlog::EmbeddedLogOptions o;
    o.data_dir = dir_.path();
    log_ = *eventlog::OpenEmbeddedLog(o);
  }
  AggregateStore<Counter>::Options Options() {
    return {.context = "test", .stream = [](const std::string& k) { return k + ".counter"; },
            .initial = [](const std::string&) { return Counter(); }};
  }
  static absl::StatusOr<Message> Add(AggregateStore<Counter>& store, const std::string& id,
                                     int64_t n, bool validate_only = false) {
    Message request;
    request.set_request_id(id);
    request.set_payload(std::to_string(n));
    return store.Execute<Message>(
        "c1", request, {"tester", absl::Now()},
        [&](Counter& scratch, Decided& out, Message& response) -> absl::Status {
          if (n < 0) return absl::InvalidArgumentError("negative");
          if (n > 0) TAKT_RETURN_IF_ERROR(out.Emit(scratch, Event{"test.Add", std::to_string(n)}));
          response.set_sequence(static_cast<uint64_t>(scratch.value));
          return absl::OkStatus();
        },
        validate_only);
  }
  uint64_t Head() { return log_->Heads("test")->empty() ? 0 : log_->Heads("test")->at(0).sequence; }

  testing::TempDir dir_;
  std::unique_ptr<eventlog::EventLog> log_;
};

TEST_F(AggregateStoreTest, DecidesFoldsAndAppendsWithTheExpectedSequence) {
  AggregateStore<Counter> store(log_.get(), Options());
  ASSERT_EQ(Add(store, "a", 2)->sequence(), 2u);
  ASSERT_EQ(Add(store, "b", 3)->sequence(), 5u);
  EXPECT_EQ(Head(), 2u);
  // The events carry who, the request id and the stream the options name.
  auto events = *log_->ReadStream({"test", "c1.counter"}, 1, 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].envelope.actor(), "tester");
  EXPECT_EQ(events[1].envelope.request_id(), "b");
  // A refused command and a no-op append nothing; validate_only neither.
  EXPECT_EQ(Add(store, "c", -1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Add(store, "d", 0)->sequence(), 5u);
  EXPECT_EQ(Add(store, "e", 7, /*validate_only=*/true)->sequence(), 12u);
  EXPECT_EQ(Head(), 2u);
  EXPECT_EQ(store.Snapshot("c1")->value, 5);
}

TEST_F(AggregateStoreTest, ResendGetsTheOriginalResponseAfterARestartToo) {
  {
    AggregateStore<Counter> store(log_.get(), Options());
    ASSERT_EQ(Add(store, "a", 2)->sequence(), 2u);
    ASSERT_EQ(Add(store, "b", 3)->sequence(), 5u);
    EXPECT_EQ(Add(store, "a", 2)->sequence(), 2u);  // the original answer, not 7
  }
  AggregateStore<Counter> restarted(log_.get(), Options());
  EXPECT_EQ(Add(restarted, "a", 2)->sequence(), 2u);
  EXPECT_EQ(Add(restarted, "a", 9).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Head(), 2u);
  EXPECT_EQ(restarted.Snapshot("c1")->value, 5);
}

TEST_F(AggregateStoreTest, AnotherWriterMovingTheStreamMeansReloadAndDecideAgain) {
  AggregateStore<Counter> one(log_.get(), Options());
  AggregateStore<Counter> two(log_.get(), Options());
  ASSERT_TRUE(Add(one, "a", 1).ok());
  ASSERT_TRUE(Add(two, "b", 10).ok());  // `one` still holds head 1
  auto r = Add(one, "c", 100);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sequence(), 111u);  // decided on the reloaded state
  EXPECT_EQ(Head(), 3u);
  // The request `two` made is answered from the log by `one` as well.
  EXPECT_EQ(Add(one, "b", 10)->sequence(), 11u);
}

}  // namespace
}  // namespace takt::es
