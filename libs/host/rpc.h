// File: rpc.h
// -----------------------------------------------------------------------------
// What every gRPC handler shares: absl::Status to grpc::Status, a
// handler's answer, and who made a call and when.
#ifndef TAKT_LIBS_HOST_RPC_H_
#define TAKT_LIBS_HOST_RPC_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "libs/auth/access.h"
#include "libs/es/event.h"

namespace takt::model {
class ModelStore;
}

namespace takt::host {

// The same code and message (absl and gRPC share the canonical codes).
grpc::Status ToGrpc(const absl::Status& s);

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
// that status; a client gone away ends it OK. A facility system's batch of
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

template <typename Request, typename Response, typename Handle>
grpc::Status ServeBatches(const grpc::ServerContext* ctx, model::ModelStore& models, auth::Permission permission,
                          grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>* raw, Handle&& handle) {
  grpc::ByteBuffer in;
  uint64_t received = 0;
  while (raw->Read(&in)) {
    ++received;
    Request batch;
    if (!grpc::SerializationTraits<Request>::Deserialize(&in, &batch).ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "message " + std::to_string(received) +
                              " of the stream does not decode as a " +
                              std::string(Request::descriptor()->full_name()) +
                              "; the batches before it were acknowledged, nothing of it was recorded");
    }
    if (grpc::Status bound = AuthorizeBatch(ctx, models, permission, batch.facility()); !bound.ok()) return bound;
    absl::StatusOr<Response> answer = handle(batch);
    if (!answer.ok()) return ToGrpc(answer.status());
    std::vector<int> codes;
    codes.reserve(answer->rejected_size());
    for (const auto& r : answer->rejected()) codes.push_back(r.code());
    CountBatch(Request::descriptor()->full_name(), answer->accepted(), answer->duplicates(), codes,
               answer->rejected_not_listed());
    grpc::ByteBuffer out;
    bool own = false;
    if (!grpc::SerializationTraits<Response>::Serialize(*answer, &out, &own).ok()) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "an acknowledgement did not encode");
    }
    if (!raw->Write(out)) break;
  }
  return grpc::Status::OK;
}

// Who made the call: its authenticated principal's actor string
// ("person:alice", "facility:detroit-1", "service:rollups"), or on a server
// started with --insecure "insecure:<peer address>" (libs/auth).
std::string Actor(const grpc::ServerContext* ctx);

// Who made the call, and now: the origin of the command it carries.
inline es::CommandOrigin Origin(const grpc::ServerContext* ctx) { return {Actor(ctx), absl::Now()}; }

}  // namespace takt::host

#endif  // TAKT_LIBS_HOST_RPC_H_
