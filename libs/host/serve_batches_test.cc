// host::ServePipelinedBatches over a real loopback gRPC server: batches of
// one stream overlap (a batch is started while the ones before it are still
// waited for), at most a window of them at once, and the client sees one
// acknowledgement per batch in order and the first error once the answers
// before it are sent.
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/method_handler.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/host/rpc.h"
#include "libs/model/model_store.h"
#include "libs/testing/temp_dir.h"
#include "takt/scheduling/v1/ingest.grpc.pb.h"

namespace takt::host {
namespace {

namespace sv1 = ::takt::scheduling::v1;
using Raw = grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>;

constexpr char kMethod[] = "/test.Batches/Stream";

// A stream whose batches are answered once the test releases them.
class GatedService final : public grpc::Service {
 public:
  GatedService(model::ModelStore* models, BatchWindow window) : models_(models), window_(window) {
    AddMethod(new grpc::internal::RpcServiceMethod(
        kMethod, grpc::internal::RpcMethod::BIDI_STREAMING,
        new grpc::internal::BidiStreamingHandler<GatedService, grpc::ByteBuffer, grpc::ByteBuffer>(
            [](GatedService* s, grpc::ServerContext* ctx, Raw* raw) { return s->Serve(ctx, raw); }, this)));
  }

  struct Pending {
    uint64_t batch_id = 0;
  };

  grpc::Status Serve(grpc::ServerContext* ctx, Raw* raw) {
    return ServePipelinedBatches<sv1::ObservationBatch, sv1::IngestAck, Pending>(
        ctx, *models_, auth::Permission::kOperate, raw, window_,
        [&](sv1::ObservationBatch&& b) -> absl::StatusOr<Pending> {
          absl::MutexLock lock(&mu_);
          started_.push_back(b.batch_id());
          if (b.batch_id() == refuse_at_start_) return absl::InvalidArgumentError("refused at start");
          return Pending{b.batch_id()};
        },
        [&](Pending& p) -> absl::StatusOr<sv1::IngestAck> {
          release_.WaitForNotification();
          {
            absl::MutexLock lock(&mu_);
            finished_.push_back(p.batch_id);
          }
          if (p.batch_id == fail_at_finish_) return absl::UnavailableError("the log failed");
          sv1::IngestAck ack;
          ack.set_batch_id(p.batch_id);
          ack.set_accepted(1);
          return ack;
        });
  }

  size_t started() {
    absl::MutexLock lock(&mu_);
    return started_.size();
  }
  std::vector<uint64_t> finished() {
    absl::MutexLock lock(&mu_);
    return finished_;
  }
  // Waits up to `timeout` for `n` batches to have been started.
  bool AwaitStarted(size_t n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return started_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

  absl::Notification release_;
  uint64_t fail_at_finish_ = 0;
  uint64_t refuse_at_start_ = 0;

 private:
  model::ModelStore* models_;
  const BatchWindow window_;
  absl::Mutex mu_;
  std::vector<uint64_t> started_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> finished_ ABSL_GUARDED_BY(mu_);
};

class ServePipelinedBatchesTest : public ::testing::Test {
 protected:
  void Start(BatchWindow window = {}) {
    eventlog::EmbeddedLogOptions o;
    o.data_dir = dir_.path();
    log_ = std::move(*eventlog::OpenEmbeddedLog(o));
    models_ = std::make_unique<model::ModelStore>(log_.get());
    service_ = std::make_unique<GatedService>(models_.get(), window);
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(service_.get());
    server_ = b.BuildAndStart();
    ASSERT_NE(port, 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    if (service_ != nullptr && !service_->release_.HasBeenNotified()) service_->release_.Notify();
    if (server_ != nullptr) server_->Shutdown();
  }

  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> Open(grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>(
        grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
            channel_.get(), grpc::internal::RpcMethod(kMethod, grpc::internal::RpcMethod::BIDI_STREAMING), ctx));
  }
  static grpc::ByteBuffer Bytes(const std::string& s) {
    grpc::Slice slice(s);
    return grpc::ByteBuffer(&slice, 1);
  }
  static grpc::ByteBuffer Batch(uint64_t id) {
    sv1::ObservationBatch b;
    b.set_facility("plant-1");
    b.set_batch_id(id);
    return Bytes(b.SerializeAsString());
  }
  // Sends `messages`, waits until `started` batches have been started,
  // lets the service answer, half-closes and returns the answered batch
  // ids; `*status` is how the stream ended.
  std::vector<uint64_t> Exchange(const std::vector<grpc::ByteBuffer>& messages, size_t started,
                                 grpc::Status* status) {
    grpc::ClientContext ctx;
    auto stream = Open(&ctx);
    for (const auto& m : messages) EXPECT_TRUE(stream->Write(m));
    EXPECT_TRUE(service_->AwaitStarted(started, absl::Seconds(10))) << service_->started() << " started";
    service_->release_.Notify();
    stream->WritesDone();
    std::vector<uint64_t> ids = ReadAcks(stream.get());
    *status = stream->Finish();
    return ids;
  }
  static std::vector<grpc::ByteBuffer> Batches(uint64_t n) {
    std::vector<grpc::ByteBuffer> out;
    for (uint64_t id = 1; id <= n; ++id) out.push_back(Batch(id));
    return out;
  }
  static std::vector<uint64_t> ReadAcks(grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>* s) {
    std::vector<uint64_t> ids;
    grpc::ByteBuffer reply;
    while (s->Read(&reply)) {
      sv1::IngestAck ack;
      EXPECT_TRUE(grpc::SerializationTraits<sv1::IngestAck>::Deserialize(&reply, &ack).ok());
      ids.push_back(ack.batch_id());
    }
    return ids;
  }

  testing::TempDir dir_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<model::ModelStore> models_;
  std::unique_ptr<GatedService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ServePipelinedBatchesTest, LaterBatchesStartWhileTheFirstIsWaitedForAndAnswersKeepTheirOrder) {
  Start();
  grpc::ClientContext ctx;
  auto stream = Open(&ctx);
  for (uint64_t id = 1; id <= 6; ++id) ASSERT_TRUE(stream->Write(Batch(id)));
  // Nothing is answered yet, and all six have been started: the stream did
  // not wait for batch 1 before taking batch 2.
  EXPECT_TRUE(service_->AwaitStarted(6, absl::Seconds(10))) << service_->started() << " started";
  EXPECT_TRUE(service_->finished().empty());
  service_->release_.Notify();
  stream->WritesDone();
  EXPECT_EQ(ReadAcks(stream.get()), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ServePipelinedBatchesTest, AtMostTheWindowIsInFlight) {
  Start(BatchWindow{.batches = 3, .bytes = 1 << 20});
  grpc::ClientContext ctx;
  auto stream = Open(&ctx);
  for (uint64_t id = 1; id <= 7; ++id) ASSERT_TRUE(stream->Write(Batch(id)));
  ASSERT_TRUE(service_->AwaitStarted(3, absl::Seconds(10)));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(service_->started(), 3u) << "more batches started than the window allows";
  service_->release_.Notify();
  stream->WritesDone();
  EXPECT_EQ(ReadAcks(stream.get()), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ServePipelinedBatchesTest, AFailedAnswerEndsTheStreamAfterTheAnswersBeforeIt) {
  Start();
  service_->fail_at_finish_ = 3;
  grpc::Status st;
  EXPECT_EQ(Exchange(Batches(5), 5, &st), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
  EXPECT_EQ(st.error_message(), "the log failed");
  // The batches after the failed one were not answered as if recorded.
  EXPECT_EQ(service_->finished(), (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(ServePipelinedBatchesTest, AMalformedMessageEndsTheStreamOnceTheBatchesBeforeItAreAnswered) {
  Start();
  std::vector<grpc::ByteBuffer> messages = Batches(2);
  messages.push_back(Bytes(std::string("\xff\xff\xff\xff\x07", 5)));
  grpc::Status st;
  EXPECT_EQ(Exchange(messages, 2, &st), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_NE(st.error_message().find("message 3"), std::string::npos) << st.error_message();
}

TEST_F(ServePipelinedBatchesTest, AStartErrorEndsTheStreamAfterTheAnswersBeforeIt) {
  Start();
  service_->refuse_at_start_ = 3;
  grpc::Status st;
  EXPECT_EQ(Exchange(Batches(4), 3, &st), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_EQ(st.error_message(), "refused at start");
}

// A client that sent one batch and waits for its answer sends nothing more:
// when that answer fails, the stream must still end (cancelled after about
// a second), not hang until the idle timeout or the client's deadline.
TEST_F(ServePipelinedBatchesTest, AFailedAnswerEndsTheStreamOfAWaitingClient) {
  Start();
  service_->fail_at_finish_ = 1;
  grpc::ClientContext ctx;
  auto stream = Open(&ctx);
  ASSERT_TRUE(stream->Write(Batch(1)));
  const absl::Time t0 = absl::Now();
  service_->release_.Notify();
  EXPECT_TRUE(ReadAcks(stream.get()).empty());
  grpc::Status st = stream->Finish();
  EXPECT_NE(st.error_code(), grpc::StatusCode::OK);
  EXPECT_NE(st.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << st.error_message();
  EXPECT_LT(absl::Now() - t0, absl::Seconds(10));
}

}  // namespace
}  // namespace takt::host
