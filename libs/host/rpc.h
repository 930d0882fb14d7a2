// File: rpc.h
// -----------------------------------------------------------------------------
// What every gRPC handler shares: absl::Status to grpc::Status, a
// handler's answer, and who made a call and when.
#ifndef TAKT_LIBS_HOST_RPC_H_
#define TAKT_LIBS_HOST_RPC_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>
#include <pthread.h>

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "libs/auth/access.h"
#include "libs/common/errors.h"
#include "libs/common/log.h"
#include "libs/es/event.h"

namespace takt::model {
class ModelStore;
}
namespace google::protobuf {
class Descriptor;
}

namespace takt::host {

// The same code and message (absl and gRPC share the canonical codes),
// with the google.rpc details every error answer of Takt carries (AIP-193;
// the grpc-status-details-bin trailer, a google.rpc.Status):
//  - ErrorInfo: domain "takt.dev", the reason (takt::WithReason, else the
//    code's name, such as "INVALID_ARGUMENT");
//  - BadRequest, for INVALID_ARGUMENT and OUT_OF_RANGE naming a field: one
//    field violation, the field (takt::WithField, else the message's
//    "field.path: " prefix) and what is wrong with it.
// Messages in the details are shortened to kMaxDetailText bytes and the
// status message to kMaxStatusMessage, so the trailers stay within gRPC's
// 8 KiB metadata limit; text in the details is valid UTF-8 (clients such
// as grpc-go refuse the whole status otherwise). Transport-level refusals
// carry no details: UNAUTHENTICATED from the TLS and token check, the
// thread quota's RESOURCE_EXHAUSTED, and the CANCELLED of a stream closed
// for idleness.
grpc::Status ToGrpc(const absl::Status& s);
inline constexpr size_t kMaxDetailText = 512;
inline constexpr size_t kMaxStatusMessage = 4096;

// `s` with another message, its details (if any) saying the same.
grpc::Status WithMessage(const grpc::Status& s, std::string message);

// Drops a BadRequest field violation whose field is not a field of
// `request` (the method's input): the message began with a path of some
// other document (an enterprise file's "calendar.day_start: ...").
grpc::Status KeepFieldsOf(const grpc::Status& s, const google::protobuf::Descriptor* request);

// `text` with every byte that is not part of valid UTF-8 replaced by
// U+FFFD.
std::string ValidUtf8(absl::string_view text);

// `s` with those details when it has none (the host adds them to every
// answer; handlers returning grpc::Status need not).
grpc::Status WithErrorDetails(const grpc::Status& s);

// The request field an error message begins with: "observations[3].unit"
// for "observations[3].unit: not a unit of detroit-1"; empty when it
// begins with no field path (lower-case words, '_', digits, '.', [n]).
std::string FieldOfMessage(absl::string_view message);

// A handler's answer: the response, or the error as a gRPC status.
template <typename T>
grpc::Status Answer(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpc(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

// Whether the caller may use `permission` on `target`, the check every
// handler makes before it reads or writes anything:
//  - a person: when one of their role bindings grants it there
//    (libs/auth/access.h; a region covers the facilities it holds today);
//  - a facility system: only on its own facility;
//  - a Takt service (mutual TLS) and every caller of a server started with
//    --insecure: always.
// PERMISSION_DENIED otherwise, naming the caller, the permission and the
// scope, and the caller's own bindings: never a filtered answer that
// looks complete.
grpc::Status Authorize(const grpc::ServerContext* ctx, model::ModelStore& models, auth::Permission permission,
                       const auth::Scope& target);
// The same for what every reader shares, such as the product catalogue:
// allowed when any of a person's bindings grants `permission` somewhere
// (`what` names it in a refusal); never for a facility system.
grpc::Status AuthorizeAnywhere(const grpc::ServerContext* ctx, model::ModelStore& models,
                               auth::Permission permission, std::string_view what);
// The same for a request naming a facility.
inline grpc::Status AuthorizeFacility(const grpc::ServerContext* ctx, model::ModelStore& models,
                                      auth::Permission permission, const std::string& facility) {
  return Authorize(ctx, models, permission, auth::Scope::Facility(facility));
}
// A scope name as the read APIs take it ("enterprise", "regions/R",
// "facilities/F", "facilities/F/workUnits/U", ...; empty is the
// enterprise) as the scope access is decided on: the facility for anything
// below it. A name that does not parse is the enterprise: only callers
// allowed everywhere pass, and the handler then refuses the name.
auth::Scope AccessScopeOf(std::string_view scope_name);

// A bidirectional stream of batches, registered with raw messages: the
// sync API's Read() returns false both at the end of a stream and for a
// message that does not decode, so this decodes each message itself. A
// message that does not decode as a `Request` ends the stream with
// INVALID_ARGUMENT naming it (the batches before it stay answered);
// `handle` answers each batch, and an error from it ends the stream with
// that status; a client gone away ends it OK. Each stream counts against
// its caller's cap and is closed when idle (OpenStream). A facility system's batch of
// another facility ends the stream PERMISSION_DENIED, nothing of it
// recorded, as does a person's batch of a facility where their roles do
// not grant `permission` (Authorize).
grpc::Status AuthorizeBatch(const grpc::ServerContext* ctx, model::ModelStore& models, auth::Permission permission,
                            const std::string& facility);

// Counts a streamed batch's acknowledgement for metrics, by the batch's
// message type: takt_ingest_batches_total, takt_ingest_items_total{outcome=
// accepted|duplicate|rejected}, takt_ingest_rejections_total{code} (the
// listed rejections by gRPC code; those not listed as "not_listed").
void CountBatch(const std::string& batch_type, uint32_t accepted, uint32_t duplicates,
                const std::vector<int>& rejection_codes, uint32_t rejections_not_listed);

// The streams of batches a process serves (every ingest service's):
//  - at most kMaxStreamsPerPeer open per caller (a gateway needs a stream
//    or a few); beyond, RESOURCE_EXHAUSTED, reason TOO_MANY_STREAMS;
//  - closed when the client has sent nothing for the idle timeout
//    (SetStreamIdleTimeout; `takt serve --stream-idle-timeout`, default
//    10 minutes): the client sees CANCELLED, the server logs it, and its
//    batches already acknowledged stay recorded. A blocked synchronous
//    Read cannot time out by itself, so a watchdog thread cancels them.
// Thread-safe; process-wide.
inline constexpr int kMaxStreamsPerPeer = 32;
std::string Actor(const grpc::ServerContext* ctx);  // below
void SetStreamIdleTimeout(absl::Duration timeout);
absl::Duration StreamIdleTimeout();

class OpenStream {
 public:
  // Registers the stream of `ctx`, made by `actor`; the error when the
  // actor has kMaxStreamsPerPeer open already.
  static absl::StatusOr<std::unique_ptr<OpenStream>> Open(grpc::ServerContext* ctx, std::string actor);
  ~OpenStream();
  OpenStream(const OpenStream&) = delete;
  OpenStream& operator=(const OpenStream&) = delete;

  // The client sent something: the idle clock starts again.
  void Touch();
  // The server works on what it was sent (time not counted as idle).
  void SetBusy(bool busy) { busy_.store(busy, std::memory_order_relaxed); }

 private:
  OpenStream(grpc::ServerContext* ctx, std::string actor);
  friend class StreamWatchdog;
  grpc::ServerContext* const ctx_;
  const std::string actor_;
  std::atomic<int64_t> last_active_ns_;
  std::atomic<bool> busy_{false};
};

// Decodes message number `received` of a stream of batches into `batch`:
// INVALID_ARGUMENT (MALFORMED_MESSAGE) naming it when it does not decode.
template <typename Request>
grpc::Status DecodeBatch(grpc::ByteBuffer& in, uint64_t received, Request* batch) {
  if (grpc::SerializationTraits<Request>::Deserialize(&in, batch).ok()) return grpc::Status::OK;
  return ToGrpc(WithReason(
      absl::InvalidArgumentError("message " + std::to_string(received) + " of the stream does not decode as a " +
                                 std::string(Request::descriptor()->full_name()) +
                                 "; the batches before it were acknowledged, nothing of it was recorded"),
      "MALFORMED_MESSAGE"));
}

// Counts a batch's acknowledgement (CountBatch) and sends it; `*sent` is
// false when the client has gone.
template <typename Request, typename Response>
grpc::Status SendAck(grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>* raw, const Response& answer,
                     bool* sent) {
  std::vector<int> codes;
  codes.reserve(answer.rejected_size());
  for (const auto& r : answer.rejected()) codes.push_back(r.code());
  CountBatch(Request::descriptor()->full_name(), answer.accepted(), answer.duplicates(), codes,
             answer.rejected_not_listed());
  grpc::ByteBuffer out;
  bool own = false;
  *sent = false;
  if (!grpc::SerializationTraits<Response>::Serialize(answer, &out, &own).ok()) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "an acknowledgement did not encode");
  }
  *sent = raw->Write(out);
  return grpc::Status::OK;
}

template <typename Request, typename Response, typename Handle>
grpc::Status ServeBatches(grpc::ServerContext* ctx, model::ModelStore& models, auth::Permission permission,
                          grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>* raw, Handle&& handle) {
  absl::StatusOr<std::unique_ptr<OpenStream>> open = OpenStream::Open(ctx, Actor(ctx));
  if (!open.ok()) return ToGrpc(open.status());
  grpc::ByteBuffer in;
  uint64_t received = 0;
  while (raw->Read(&in)) {
    (*open)->SetBusy(true);
    ++received;
    Request batch;
    if (grpc::Status decoded = DecodeBatch(in, received, &batch); !decoded.ok()) return decoded;
    if (grpc::Status bound = AuthorizeBatch(ctx, models, permission, batch.facility()); !bound.ok()) return bound;
    absl::StatusOr<Response> answer = handle(batch);
    // Idle from here until the client's next message (a client that does
    // not read its acknowledgements is closed too).
    (*open)->Touch();
    (*open)->SetBusy(false);
    if (!answer.ok()) return ToGrpc(answer.status());
    bool sent = false;
    if (grpc::Status st = SendAck<Request>(raw, *answer, &sent); !st.ok()) return st;
    if (!sent) break;
  }
  return grpc::Status::OK;
}

// How many batches of one stream ServePipelinedBatches works on at once:
// at most `batches`, and no more once those hold `bytes` of requests (one
// batch always may).
struct BatchWindow {
  size_t batches = 32;
  size_t bytes = 8 << 20;
};

// ServeBatches for a handler in two halves, so that a stream's batches
// overlap: `start(Request&&)` runs on the stream's thread as each batch
// arrives (screening it, starting its durable append) and returns a
// `StatusOr<Pending>`; `finish(Pending&)` runs on a second thread, in
// arrival order, waits for it and returns the acknowledgement. The client
// sees what ServeBatches gives (one acknowledgement per batch, in order,
// the same errors), but a batch's durable write no longer holds up the
// reading and screening of the next ones. An error from either half ends
// the stream with that status once the acknowledgements before it are
// sent; batches started after a failed one are not acknowledged (a
// gateway resends them). If a `finish` error finds the stream's thread
// waiting for a client that sends nothing more, the stream is cancelled
// after a second (the error is logged).
template <typename Request, typename Response, typename Pending, typename Start, typename Finish>
grpc::Status ServePipelinedBatches(grpc::ServerContext* ctx, model::ModelStore& models, auth::Permission permission,
                                   grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>* raw,
                                   BatchWindow window, Start&& start, Finish&& finish) {
  absl::StatusOr<std::unique_ptr<OpenStream>> opened = OpenStream::Open(ctx, Actor(ctx));
  if (!opened.ok()) return ToGrpc(opened.status());
  OpenStream& open = **opened;
  struct Started {
    Pending pending;
    size_t bytes;
  };
  absl::Mutex mu;
  std::deque<Started> started;  // GUARDED_BY(mu), as below
  size_t in_flight = 0;         // batches started and not yet answered
  size_t in_flight_bytes = 0;
  bool reading = false;         // the stream's thread works on a batch
  bool reading_done = false;
  bool stop = false;            // an answer failed or the client left
  grpc::Status answer_error;
  auto busy = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { open.SetBusy(reading || in_flight > 0); };

  std::thread answers([&] {
    pthread_setname_np(pthread_self(), "takt-acks");
    for (;;) {
      std::optional<Started> next;
      {
        absl::MutexLock lock(&mu);
        auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return !started.empty() || reading_done; };
        if (stop && !mu.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(1))) {
          // The stream's thread waits in Read for a client that sends
          // nothing more: only a cancellation ends that wait.
          if (!answer_error.ok()) {
            log::Warn(absl::StrCat("cancelling a stream of batches from ", Actor(ctx), ": ",
                                   answer_error.error_message()));
          }
          ctx->TryCancel();
          mu.Await(absl::Condition(&ready));
        } else {
          mu.Await(absl::Condition(&ready));
        }
        if (started.empty()) return;
        next.emplace(std::move(started.front()));
        started.pop_front();
      }
      grpc::Status status;
      bool sent = true;
      bool stopped = false;
      {
        absl::MutexLock lock(&mu);
        stopped = stop;
      }
      if (!stopped) {
        absl::StatusOr<Response> answer = finish(next->pending);
        status = answer.ok() ? SendAck<Request>(raw, *answer, &sent) : ToGrpc(answer.status());
        open.Touch();
      }
      const size_t bytes = next->bytes;
      next.reset();  // waits for an append still under way
      absl::MutexLock lock(&mu);
      --in_flight;
      in_flight_bytes -= bytes;
      if (!stopped) {
        if (!status.ok()) {
          answer_error = status;
          stop = true;
        } else if (!sent) {
          stop = true;
        }
      }
      busy();
    }
  });

  grpc::Status read_error;
  grpc::ByteBuffer in;
  uint64_t received = 0;
  for (;;) {
    {
      absl::MutexLock lock(&mu);
      auto room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
        return stop || in_flight == 0 || (in_flight < window.batches && in_flight_bytes < window.bytes);
      };
      mu.Await(absl::Condition(&room));
      if (stop) break;
    }
    if (!raw->Read(&in)) break;
    const size_t bytes = in.Length();
    {
      absl::MutexLock lock(&mu);
      reading = true;
      busy();
    }
    ++received;
    Request batch;
    if (read_error = DecodeBatch(in, received, &batch); !read_error.ok()) break;
    if (read_error = AuthorizeBatch(ctx, models, permission, batch.facility()); !read_error.ok()) break;
    absl::StatusOr<Pending> pending = start(std::move(batch));
    if (!pending.ok()) {
      read_error = ToGrpc(pending.status());
      break;
    }
    absl::MutexLock lock(&mu);
    started.push_back(Started{std::move(*pending), bytes});
    ++in_flight;
    in_flight_bytes += bytes;
    reading = false;
    busy();
  }
  {
    absl::MutexLock lock(&mu);
    reading_done = true;
  }
  answers.join();
  open.SetBusy(false);
  if (!answer_error.ok()) return answer_error;
  return read_error;
}

// Who made the call: its authenticated principal's actor string
// ("person:alice", "facility:detroit-1", "service:rollups"), or on a server
// started with --insecure "insecure:<peer address>" (libs/auth).
std::string Actor(const grpc::ServerContext* ctx);

// Who made the call, and now: the origin of the command it carries.
inline es::CommandOrigin Origin(const grpc::ServerContext* ctx) { return {Actor(ctx), absl::Now()}; }

}  // namespace takt::host

#endif  // TAKT_LIBS_HOST_RPC_H_
