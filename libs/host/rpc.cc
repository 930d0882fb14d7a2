#include "libs/host/rpc.h"

#include <prometheus/counter.h>

#include <algorithm>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/auth/transport.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/metrics/metrics.h"
#include "libs/model/model_store.h"

namespace takt::host {

namespace {

// At most `limit` bytes of valid UTF-8, "..." at the end when cut.
std::string Shortened(absl::string_view text, size_t limit = kMaxDetailText) {
  std::string valid = ValidUtf8(text);
  if (valid.size() <= limit) return valid;
  size_t cut = limit - 3;
  while (cut > 0 && (static_cast<unsigned char>(valid[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
  valid.resize(cut);
  return valid + "...";
}

// The status message sent: at most kMaxStatusMessage bytes (cut on a
// character boundary when it is UTF-8).
std::string StatusMessage(absl::string_view text) {
  if (text.size() <= kMaxStatusMessage) return std::string(text);
  size_t cut = kMaxStatusMessage - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(text.substr(0, cut), "...");
}

// The serialized google.rpc.Status of an error.
std::string Details(grpc::StatusCode code, absl::string_view message, absl::string_view reason,
                    absl::string_view field) {
  google::rpc::Status status;
  status.set_code(static_cast<int32_t>(code));
  status.set_message(Shortened(message));
  google::rpc::ErrorInfo info;
  info.set_domain("takt.dev");
  info.set_reason(reason.empty() ? absl::StatusCodeToString(static_cast<absl::StatusCode>(code))
                                 : std::string(reason));
  status.add_details()->PackFrom(info);
  if ((code == grpc::StatusCode::INVALID_ARGUMENT || code == grpc::StatusCode::OUT_OF_RANGE) && !field.empty()) {
    google::rpc::BadRequest bad;
    google::rpc::BadRequest::FieldViolation* v = bad.add_field_violations();
    v->set_field(std::string(field));
    absl::string_view what = message;
    if (what.size() > field.size() + 2 && what.substr(0, field.size()) == field &&
        what.substr(field.size(), 2) == ": ") {
      what.remove_prefix(field.size() + 2);
    }
    v->set_description(Shortened(what));
    status.add_details()->PackFrom(bad);
  }
  return status.SerializeAsString();
}

}  // namespace

std::string ValidUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  auto cont = [&](size_t at, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return at < n && p[at] >= lo && p[at] <= hi;
  };
  while (i < n) {
    const unsigned char c = p[i];
    size_t len = 0;
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = cont(i + 1) ? 2 : 0;
    } else if (c >= 0xE0 && c <= 0xEF) {
      const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
      len = cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
    } else if (c >= 0xF0 && c <= 0xF4) {
      const unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
      len = cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    }
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(text.data() + i, len);
      i += len;
    }
  }
  return out;
}

grpc::Status WithMessage(const grpc::Status& s, std::string message) {
  google::rpc::Status details;
  if (s.error_details().empty() || !details.ParseFromString(s.error_details())) {
    return grpc::Status(s.error_code(), StatusMessage(message), s.error_details());
  }
  details.set_message(Shortened(message));
  return grpc::Status(s.error_code(), StatusMessage(message), details.SerializeAsString());
}

grpc::Status KeepFieldsOf(const grpc::Status& s, const google::protobuf::Descriptor* request) {
  google::rpc::Status details;
  if (request == nullptr || s.error_details().empty() || !details.ParseFromString(s.error_details())) return s;
  bool dropped = false;
  auto* all = details.mutable_details();
  for (int i = all->size() - 1; i >= 0; --i) {
    google::rpc::BadRequest bad;
    if (!all->Get(i).UnpackTo(&bad) || bad.field_violations_size() == 0) continue;
    const std::string& field = bad.field_violations(0).field();
    const std::string first = field.substr(0, field.find_first_of(".["));
    if (request->FindFieldByName(first) != nullptr) continue;
    all->DeleteSubrange(i, 1);
    dropped = true;
  }
  if (!dropped) return s;
  return grpc::Status(s.error_code(), s.error_message(), details.SerializeAsString());
}

std::string FieldOfMessage(absl::string_view message) {
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t i = 0;
  const size_t n = std::min<size_t>(message.size(), 200);
  while (true) {
    if (i >= n || !lower(message[i])) return "";
    while (i < n && (lower(message[i]) || digit(message[i]) || message[i] == '_')) ++i;
    if (i < n && message[i] == '[') {
      const size_t open = ++i;
      while (i < n && digit(message[i])) ++i;
      if (i == open || i >= n || message[i] != ']') return "";
      ++i;
    }
    if (i < n && message[i] == '.') {
      ++i;
      continue;
    }
    break;
  }
  if (message.substr(i, 2) != ": ") return "";
  return std::string(message.substr(0, i));
}

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(s.code());
  const std::optional<std::string> reason = ReasonOf(s);
  std::optional<std::string> field = FieldOf(s);
  if (!field) field = FieldOfMessage(s.message());
  return grpc::Status(code, StatusMessage(s.message()), Details(code, s.message(), reason.value_or(""), *field));
}

grpc::Status WithErrorDetails(const grpc::Status& s) {
  if (s.ok() || !s.error_details().empty()) return s;
  return grpc::Status(s.error_code(), StatusMessage(s.error_message()),
                      Details(s.error_code(), s.error_message(), "", FieldOfMessage(s.error_message())));
}

std::string Actor(const grpc::ServerContext* ctx) { return auth::PrincipalOf(ctx).Actor(); }

// The open streams of batches: counted per caller, and a thread that
// cancels those idle too long (started with the first stream).
class StreamWatchdog {
 public:
  static StreamWatchdog& Get() {
    static auto* watchdog = new StreamWatchdog();  // never destroyed: streams may outlive main's statics
    return *watchdog;
  }

  absl::Status Add(OpenStream* stream) {
    absl::MutexLock lock(&mu_);
    int& open = per_actor_[stream->actor_];
    if (open >= kMaxStreamsPerPeer) {
      if (over_cap_.insert(stream->actor_).second) {  // said once while it stays over the cap
        log::Warn(absl::StrCat("refusing streams from ", stream->actor_, ": it has ", open, " open, at most ",
                               kMaxStreamsPerPeer, " per peer"));
      }
      if (open == 0) per_actor_.erase(stream->actor_);
      return WithReason(absl::ResourceExhaustedError(absl::StrCat(
                            stream->actor_, " has ", open, " streams of batches open; at most ", kMaxStreamsPerPeer,
                            " per peer (send more batches on one)")),
                        "TOO_MANY_STREAMS");
    }
    ++open;
    streams_.insert(stream);
    if (!thread_started_) {
      thread_started_ = true;
      std::thread([this] { Run(); }).detach();
    }
    return absl::OkStatus();
  }

  void Remove(OpenStream* stream) {
    absl::MutexLock lock(&mu_);  // after this, Run() no longer touches the stream's context
    cancelled_.erase(stream);    // a new stream may get its address
    if (streams_.erase(stream) == 0) return;
    if (--per_actor_[stream->actor_] <= 0) {
      per_actor_.erase(stream->actor_);
      over_cap_.erase(stream->actor_);
    }
  }

  void SetTimeout(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    timeout_ = d;
  }
  absl::Duration timeout() {
    absl::MutexLock lock(&mu_);
    return timeout_;
  }

 private:
  void Run() {
    while (true) {
      absl::Duration tick;
      {
        absl::MutexLock lock(&mu_);
        tick = std::clamp(timeout_ / 10, absl::Milliseconds(50), absl::Seconds(5));
        const int64_t now = absl::GetCurrentTimeNanos();
        for (OpenStream* s : streams_) {
          if (s->busy_.load(std::memory_order_relaxed)) continue;  // the server's time, not the client's
          const int64_t idle = now - s->last_active_ns_.load(std::memory_order_relaxed);
          if (idle > absl::ToInt64Nanoseconds(timeout_) && cancelled_.insert(s).second) {
            log::Info(absl::StrCat("closing a stream of batches from ", s->actor_, ": nothing received for ",
                                   absl::FormatDuration(absl::Nanoseconds(idle)), " (--stream-idle-timeout ",
                                   absl::FormatDuration(timeout_), ")"));
            s->ctx_->TryCancel();
          }
        }
      }
      absl::SleepFor(tick);
    }
  }

  absl::Mutex mu_;
  absl::flat_hash_set<OpenStream*> streams_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<OpenStream*> cancelled_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> per_actor_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> over_cap_ ABSL_GUARDED_BY(mu_);
  absl::Duration timeout_ ABSL_GUARDED_BY(mu_) = absl::Minutes(10);
  bool thread_started_ ABSL_GUARDED_BY(mu_) = false;
};

void SetStreamIdleTimeout(absl::Duration timeout) { StreamWatchdog::Get().SetTimeout(timeout); }
absl::Duration StreamIdleTimeout() { return StreamWatchdog::Get().timeout(); }

OpenStream::OpenStream(grpc::ServerContext* ctx, std::string actor)
    : ctx_(ctx), actor_(std::move(actor)), last_active_ns_(absl::GetCurrentTimeNanos()) {}

absl::StatusOr<std::unique_ptr<OpenStream>> OpenStream::Open(grpc::ServerContext* ctx, std::string actor) {
  std::unique_ptr<OpenStream> stream(new OpenStream(ctx, std::move(actor)));
  TAKT_RETURN_IF_ERROR(StreamWatchdog::Get().Add(stream.get()));
  return stream;
}

OpenStream::~OpenStream() { StreamWatchdog::Get().Remove(this); }

void OpenStream::Touch() { last_active_ns_.store(absl::GetCurrentTimeNanos(), std::memory_order_relaxed); }


void CountBatch(const std::string& batch_type, uint32_t accepted, uint32_t duplicates,
                const std::vector<int>& rejection_codes, uint32_t rejections_not_listed) {
  static auto& batches = prometheus::BuildCounter()
                             .Name("takt_ingest_batches_total")
                             .Help("Streamed batches acknowledged, by batch type.")
                             .Register(metrics::Registry());
  static auto& items = prometheus::BuildCounter()
                           .Name("takt_ingest_items_total")
                           .Help("Items of acknowledged batches by outcome: accepted, duplicate (a resend "
                                 "recognised, recorded once) or rejected.")
                           .Register(metrics::Registry());
  static auto& rejections = prometheus::BuildCounter()
                                .Name("takt_ingest_rejections_total")
                                .Help("Rejected items by gRPC code (the reason's class).")
                                .Register(metrics::Registry());
  batches.Add({{"batch", batch_type}}).Increment();
  if (accepted > 0) items.Add({{"batch", batch_type}, {"outcome", "accepted"}}).Increment(accepted);
  if (duplicates > 0) items.Add({{"batch", batch_type}, {"outcome", "duplicate"}}).Increment(duplicates);
  const size_t rejected = rejection_codes.size() + rejections_not_listed;
  if (rejected > 0) {
    items.Add({{"batch", batch_type}, {"outcome", "rejected"}}).Increment(static_cast<double>(rejected));
  }
  for (int code : rejection_codes) {
    const std::string name = code >= 0 && code <= 16
                                 ? absl::StatusCodeToString(static_cast<absl::StatusCode>(code))
                                 : std::string("UNKNOWN");
    rejections.Add({{"batch", batch_type}, {"code", name}}).Increment();
  }
  if (rejections_not_listed > 0) {
    rejections.Add({{"batch", batch_type}, {"code", "not_listed"}}).Increment(rejections_not_listed);
  }
}

}  // namespace takt::host

namespace takt::host {

namespace {

// Authorize and AuthorizeAnywhere: `target` null is anywhere, named `what`.
grpc::Status Decide(const grpc::ServerContext* ctx, model::ModelStore& models, auth::Permission permission,
                    const auth::Scope* target, std::string_view what) {
  const auth::Principal p = auth::PrincipalOf(ctx);
  bool allowed = false;
  std::vector<std::string> theirs;
  switch (p.kind) {
    case auth::PrincipalKind::kInsecure:
    case auth::PrincipalKind::kService: return grpc::Status::OK;
    case auth::PrincipalKind::kFacilitySystem:
      allowed = target != nullptr && *target == auth::Scope::Facility(p.name);
      theirs.push_back(absl::StrCat("its own facility ", p.name));
      break;
    case auth::PrincipalKind::kPerson:
      models.Read([&](const model::EnterpriseModel& m) {
        allowed = target != nullptr ? m.Allows(p.name, permission, *target)
                                    : m.access().AllowsSomewhere(p.name, permission);
        if (allowed) return;
        for (const auth::Binding& b : m.access().Of(p.name)) {
          theirs.push_back(absl::StrCat(auth::RoleName(b.role), " on ", b.scope.Name()));
        }
      });
      break;
  }
  if (allowed) return grpc::Status::OK;
  return ToGrpc(WithReason(
      absl::PermissionDeniedError(absl::StrCat(p.Actor(), " may not ", auth::PermissionName(permission), " ",
                                               target != nullptr ? target->Name().substr(0, 140) : std::string(what),
                                               ": no role binding grants it there (",
                                               theirs.empty() ? std::string("none") : absl::StrJoin(theirs, "; "),
                                               "); nothing was read or recorded")),
      p.kind == auth::PrincipalKind::kFacilitySystem ? "OTHER_FACILITY" : "NOT_GRANTED"));
}

}  // namespace

grpc::Status Authorize(const grpc::ServerContext* ctx, model::ModelStore& models, auth::Permission permission,
                       const auth::Scope& target) {
  return Decide(ctx, models, permission, &target, "");
}

grpc::Status AuthorizeAnywhere(const grpc::ServerContext* ctx, model::ModelStore& models,
                               auth::Permission permission, std::string_view what) {
  return Decide(ctx, models, permission, nullptr, what);
}

grpc::Status AuthorizeBatch(const grpc::ServerContext* ctx, model::ModelStore& models, auth::Permission permission,
                            const std::string& facility) {
  grpc::Status s = Authorize(ctx, models, permission, auth::Scope::Facility(facility));
  if (s.ok()) return s;
  return WithMessage(s, absl::StrCat(s.error_message(), "; the batches before it were acknowledged"));
}

auth::Scope AccessScopeOf(std::string_view scope_name) {
  if (scope_name.empty() || scope_name == "enterprise") return auth::Scope::Enterprise();
  std::vector<std::string> parts = absl::StrSplit(std::string(scope_name), '/');
  if (parts.size() == 2 && parts[0] == "regions") return auth::Scope::Region(parts[1]);
  if ((parts.size() == 2 || parts.size() == 4) && parts[0] == "facilities") {
    return auth::Scope::Facility(parts[1]);
  }
  return auth::Scope::Enterprise();
}

}  // namespace takt::host
