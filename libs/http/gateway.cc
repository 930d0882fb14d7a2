#include "libs/http/gateway.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>
#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "libs/auth/jwt.h"
#include "libs/auth/principal.h"
#include "libs/common/log.h"
#include "libs/http/listen.h"
#include "nlohmann/json.hpp"

namespace takt::http {
namespace {

constexpr const char* kStatusNames[] = {
    "OK",        "CANCELLED",          "UNKNOWN",        "INVALID_ARGUMENT",    "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED",    "INTERNAL",       "UNAVAILABLE",         "DATA_LOSS",         "UNAUTHENTICATED"};

constexpr size_t kMaxBody = 1 << 20;
constexpr size_t kMaxMessage = 4096;  // of an error message echoed back

std::string Dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// The JSON error of AIP-193: {"error": {"code": HTTP status, "status",
// "message", "details": [the google.rpc details of the gRPC answer, each
// with its "@type"]}}.
void Error(httplib::Response& res, int code, std::string message, const std::string& grpc_details = "") {
  if (code < 0 || code > 16) code = 2;
  if (message.size() > kMaxMessage) message.resize(kMaxMessage);
  res.status = HttpStatusOf(code);
  nlohmann::json error = {{"code", res.status}, {"status", kStatusNames[code]}, {"message", message}};
  google::rpc::Status details;
  std::string json;
  (void)google::rpc::BadRequest::descriptor();  // the detail types, linked for the JSON of Any
  if (!grpc_details.empty() && details.ParseFromString(grpc_details) && details.details_size() > 0 &&
      google::protobuf::util::MessageToJsonString(details, &json).ok()) {
    const nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.contains("details")) error["details"] = parsed["details"];
  }
  res.set_content(Dump({{"error", error}}), "application/json");
}

std::string RegexEscape(char c) {
  static const std::string kSpecial = R"(\^$.|?*+()[]{}-)";
  return kSpecial.find(c) == std::string::npos ? std::string(1, c) : std::string("\\") + c;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return std::nullopt;
  std::string text;
  char buffer[8192];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return std::nullopt;
  return text;
}

// The server's certificate chain and key for HTTPS, read again when the
// files change (looked at once per reload interval, on a handshake), as
// gRPC's certificate watcher does: a renewed certificate needs no restart.
// A renewal that does not parse, or whose key does not match, is logged
// and the pair in force stays.
class TlsFiles {
 public:
  TlsFiles(std::string cert_file, std::string key_file, absl::Duration interval)
      : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)), interval_(interval) {}

  // The first read: INVALID_ARGUMENT naming the files when they do not make a pair.
  absl::Status Load() {
    absl::MutexLock lock(&mu_);
    std::string why;
    if (!ReloadLocked(&why)) {
      return absl::InvalidArgumentError(absl::StrCat("HTTP: cannot use ", cert_file_, " and ", key_file_,
                                                     " for TLS: ", why));
    }
    return absl::OkStatus();
  }

  // Puts the pair in force on a handshake's connection (OpenSSL's
  // certificate callback); 1 done, 0 fails the handshake.
  static int Use(SSL* ssl, void* self) { return static_cast<TlsFiles*>(self)->UseOn(ssl) ? 1 : 0; }

 private:
  struct Pair {
    std::string cert_pem, key_pem;
    X509* leaf = nullptr;
    STACK_OF(X509)* chain = nullptr;  // the certificates after the leaf
    EVP_PKEY* key = nullptr;
    ~Pair() {
      X509_free(leaf);
      sk_X509_pop_free(chain, X509_free);
      EVP_PKEY_free(key);
    }
  };

  bool UseOn(SSL* ssl) {
    absl::MutexLock lock(&mu_);
    if (absl::Now() - checked_ >= interval_) {
      std::string why;
      if (!ReloadLocked(&why) && why != reported_) {
        log::Warn(absl::StrCat("HTTP TLS: keeping the certificate in force: ", why));
        reported_ = why;
      }
    }
    // The connection takes its own references: a reload later frees ours only.
    return SSL_use_certificate(ssl, pair_->leaf) == 1 && SSL_use_PrivateKey(ssl, pair_->key) == 1 &&
           SSL_set1_chain(ssl, pair_->chain) == 1;
  }

  // Reads the files; a changed, valid pair replaces the one in force.
  bool ReloadLocked(std::string* why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    checked_ = absl::Now();
    std::optional<std::string> cert = ReadFile(cert_file_), key = ReadFile(key_file_);
    if (!cert || !key) {
      *why = absl::StrCat("cannot read ", !cert ? cert_file_ : key_file_);
      return false;
    }
    if (pair_ != nullptr && pair_->cert_pem == *cert && pair_->key_pem == *key) return true;
    auto next = std::make_unique<Pair>();
    next->cert_pem = *std::move(cert);
    next->key_pem = *std::move(key);
    BIO* cert_bio = BIO_new_mem_buf(next->cert_pem.data(), static_cast<int>(next->cert_pem.size()));
    next->leaf = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    next->chain = sk_X509_new_null();
    while (X509* more = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr)) sk_X509_push(next->chain, more);
    BIO_free(cert_bio);
    BIO* key_bio = BIO_new_mem_buf(next->key_pem.data(), static_cast<int>(next->key_pem.size()));
    next->key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
    BIO_free(key_bio);
    ERR_clear_error();
    if (next->leaf == nullptr || next->key == nullptr) {
      *why = absl::StrCat(next->leaf == nullptr ? cert_file_ : key_file_, " holds no PEM ",
                          next->leaf == nullptr ? "certificate" : "private key");
      return false;
    }
    if (X509_check_private_key(next->leaf, next->key) != 1) {
      ERR_clear_error();
      *why = absl::StrCat(key_file_, " is not the key of the certificate in ", cert_file_,
                          " (during a renewal, write the key first, then the certificate)");
      return false;
    }
    if (pair_ != nullptr) log::Info(absl::StrCat("HTTP TLS: renewed certificate from ", cert_file_, " in force"));
    pair_ = std::move(next);
    reported_.clear();
    return true;
  }

  const std::string cert_file_, key_file_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  std::unique_ptr<Pair> pair_ ABSL_GUARDED_BY(mu_);
  absl::Time checked_ ABSL_GUARDED_BY(mu_);
  std::string reported_ ABSL_GUARDED_BY(mu_);
};

// One compiled route: the regex, its fields, the method.
struct Bound {
  Route route;
  std::vector<std::string> fields;
  const google::protobuf::MethodDescriptor* method = nullptr;
};

class GatewayImpl final : public Gateway {
 public:
  GatewayImpl(std::unique_ptr<TlsFiles> tls, std::unique_ptr<httplib::Server> server,
              std::unique_ptr<auth::JwtVerifier> jwt, bool insecure, std::shared_ptr<grpc::Channel> channel)
      : tls_(std::move(tls)),
        server_(std::move(server)),
        jwt_(std::move(jwt)),
        insecure_(insecure),
        channel_(std::move(channel)) {}
  ~GatewayImpl() override { Stop(); }

  absl::Status Listen(const std::string& listen) {
    auto port = BindListen(*server_, listen, "--http-listen");
    if (!port.ok()) return port.status();
    port_ = *port;
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    return absl::OkStatus();
  }

  void Route(Bound bound) {
    auto shared = std::make_shared<Bound>(std::move(bound));
    auto handler = [this, shared](const httplib::Request& req, httplib::Response& res) { Handle(*shared, req, res); };
    const std::string regex = CompilePath(shared->route.path)->regex;
    if (shared->route.verb == "POST") {
      server_->Post(regex, handler);
    } else {
      server_->Get(regex, handler);
    }
  }

  int port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  // The caller as the gRPC server would see them, or an error response.
  std::optional<std::string> Authenticate(const httplib::Request& req, httplib::Response& res) const {
    if (insecure_) return auth::Principal{auth::PrincipalKind::kInsecure, req.remote_addr}.Actor();
    const std::string header = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) {
      Error(res, 16, "a bearer token is required: Authorization: Bearer <JWT>");
      return std::nullopt;
    }
    if (jwt_ == nullptr) {
      Error(res, 16, "this server accepts no bearer tokens (no --jwt-public-key)");
      return std::nullopt;
    }
    auto subject = jwt_->Verify(std::string_view(header).substr(kBearer.size()), absl::Now());
    if (!subject.ok()) {
      Error(res, 16, std::string(subject.status().message()));
      return std::nullopt;
    }
    return auth::Principal{auth::PrincipalKind::kPerson, *subject}.Actor();
  }

  void Handle(const Bound& b, const httplib::Request& req, httplib::Response& res) const {
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    if (req.method == "POST" && req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
      // Not a form a web page could post across sites.
      return Error(res, 3, "a POST body must be Content-Type: application/json");
    }
    std::optional<std::string> actor = Authenticate(req, res);
    if (!actor) return;
    std::vector<std::pair<std::string, std::string>> path_values;
    for (size_t i = 0; i < b.fields.size() && i + 1 < req.matches.size(); ++i) {
      path_values.emplace_back(b.fields[i], req.matches[i + 1].str());
    }
    std::vector<std::pair<std::string, std::string>> params(req.params.begin(), req.params.end());
    auto request = RequestOf(*b.method->input_type(), path_values, params, req.body);
    if (!request.ok()) return Error(res, 3, std::string(request.status().message()));
    const std::string bytes = (*request)->SerializeAsString();
    grpc::Slice slice(bytes);
    grpc::ByteBuffer in(&slice, 1), out;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ctx.AddMetadata(auth::kGatewayPrincipalMetadata, *actor);
    const grpc::internal::RpcMethod rpc(b.route.method.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
    grpc::Status s =
        grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(channel_.get(), rpc, &ctx, in, &out);
    if (!s.ok()) return Error(res, s.error_code(), s.error_message(), s.error_details());
    std::unique_ptr<google::protobuf::Message> response(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(b.method->output_type())->New());
    std::vector<grpc::Slice> slices;
    std::string answer;
    if (out.Dump(&slices).ok()) {
      for (const grpc::Slice& sl : slices) answer.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
    }
    if (!response->ParseFromString(answer)) return Error(res, 13, "the answer did not decode");
    google::protobuf::util::JsonPrintOptions print;
    print.always_print_primitive_fields = true;
    std::string text;
    if (!google::protobuf::util::MessageToJsonString(*response, &text, print).ok()) {
      return Error(res, 13, "the answer did not encode as JSON");
    }
    res.status = 200;
    res.set_content(text, "application/json");
  }

  std::unique_ptr<TlsFiles> tls_;  // outlives the server, whose handshakes use it
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<auth::JwtVerifier> jwt_;
  const bool insecure_;
  std::shared_ptr<grpc::Channel> channel_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

absl::StatusOr<std::unique_ptr<google::protobuf::Message>> RequestOf(
    const google::protobuf::Descriptor& input, const std::vector<std::pair<std::string, std::string>>& path_values,
    const std::vector<std::pair<std::string, std::string>>& params, std::string_view body) {
  nlohmann::json j = nlohmann::json::object();
  if (!body.empty()) {
    j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return absl::InvalidArgumentError("the body is not a JSON object");
  }
  for (const auto& [field, value] : path_values) j[field] = value;
  auto in_path = [&](const std::string& name) {
    for (const auto& [field, value] : path_values) {
      if (field == name) return true;
    }
    return false;
  };
  for (const auto& [key, value] : params) {
    const std::string shown = key.substr(0, 64);
    const google::protobuf::FieldDescriptor* f = input.FindFieldByName(key);
    if (f == nullptr) f = input.FindFieldByCamelcaseName(key);
    // Messages are set in a JSON body, except the well-known types whose
    // JSON form is a string (a time "2026-12-01T06:00:00Z", a duration "90s").
    const bool string_message = f != nullptr && f->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
                                (f->message_type()->full_name() == "google.protobuf.Timestamp" ||
                                 f->message_type()->full_name() == "google.protobuf.Duration");
    if (f == nullptr || (f->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE && !string_message)) {
      return absl::InvalidArgumentError(absl::StrCat("unknown query parameter '", shown, "'"));
    }
    const std::string name = f->name();
    if (in_path(name)) {
      return absl::InvalidArgumentError(absl::StrCat("query parameter '", shown, "' is already in the path"));
    }
    if (f->is_repeated()) {
      if (!j.contains(name) || !j[name].is_array()) j[name] = nlohmann::json::array();
      for (absl::string_view v : absl::StrSplit(value, ',', absl::SkipEmpty())) j[name].push_back(std::string(v));
      continue;
    }
    if (j.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat("query parameter '", shown, "' is given twice"));
    }
    if (f->type() == google::protobuf::FieldDescriptor::TYPE_BOOL) {
      if (value != "true" && value != "false") {
        return absl::InvalidArgumentError(absl::StrCat("query parameter '", shown, "' must be true or false"));
      }
      j[name] = value == "true";
    } else {
      j[name] = value;
    }
  }
  std::unique_ptr<google::protobuf::Message> request(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(&input)->New());
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(Dump(j), request.get(), parse);
  if (!parsed.ok()) return absl::InvalidArgumentError(std::string(parsed.message()));
  return request;
}

int HttpStatusOf(int code) {
  switch (code) {
    case 0: return 200;
    case 1: return 499;
    case 3: return 400;
    case 4: return 504;
    case 5: return 404;
    case 6: return 409;
    case 7: return 403;
    case 8: return 429;
    case 9: return 400;
    case 10: return 409;
    case 11: return 400;
    case 12: return 501;
    case 14: return 503;
    case 16: return 401;
    default: return 500;  // UNKNOWN, INTERNAL, DATA_LOSS
  }
}

absl::StatusOr<CompiledPath> CompilePath(const std::string& path) {
  CompiledPath out;
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("path template '", path, "': ", why));
  };
  for (size_t i = 0; i < path.size();) {
    if (path[i] != '{') {
      if (path[i] == '}') return bad("'}' without '{'");
      out.regex += RegexEscape(path[i++]);
      continue;
    }
    const size_t close = path.find('}', i);
    if (close == std::string::npos) return bad("'{' without '}'");
    const std::string var = path.substr(i + 1, close - i - 1);
    const size_t eq = var.find('=');
    const std::string field = var.substr(0, eq);
    if (field.empty()) return bad("a variable without a field");
    const std::string pattern = eq == std::string::npos ? "*" : var.substr(eq + 1);
    std::string re;
    for (absl::string_view segment : absl::StrSplit(pattern, '/')) {
      if (!re.empty()) re += "/";
      if (segment == "*") {
        re += "[^/:]+";
      } else if (segment == "**") {
        re += "[^:]+";
      } else if (segment.empty()) {
        return bad("an empty segment");
      } else {
        for (char c : segment) re += RegexEscape(c);
      }
    }
    out.regex += "(" + re + ")";
    out.fields.push_back(field);
    i = close + 1;
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(const GatewayOptions& options, std::vector<Route> routes,
                                                        std::shared_ptr<grpc::Channel> channel) {
  const auth::TransportOptions& sec = options.security;
  std::unique_ptr<TlsFiles> tls_files;
  std::unique_ptr<httplib::Server> server;
  std::unique_ptr<auth::JwtVerifier> jwt;
  if (sec.require_client_certificate) {
    return absl::InvalidArgumentError(
        "--http-listen with --require-client-cert: HTTP takes people's bearer tokens, not client certificates; "
        "leave one of them out");
  }
  if (sec.insecure) {
    server = std::make_unique<httplib::Server>();
  } else {
    tls_files = std::make_unique<TlsFiles>(sec.cert_file, sec.key_file,
                                           absl::Seconds(std::max(1u, sec.reload_interval_seconds)));
    if (absl::Status s = tls_files->Load(); !s.ok()) return s;
    TlsFiles* files = tls_files.get();
    auto tls = std::make_unique<httplib::SSLServer>([files](SSL_CTX& ctx) {
      SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION |
                                    SSL_OP_NO_RENEGOTIATION);
      SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
      SSL_CTX_set_cert_cb(&ctx, &TlsFiles::Use, files);
      return true;
    });
    if (!tls->is_valid()) return absl::InternalError("HTTP: cannot set up TLS (OpenSSL)");
    server = std::move(tls);
    auto verifier = auth::MakeJwtVerifier(sec);
    if (!verifier.ok()) return verifier.status();
    jwt = *std::move(verifier);
  }
  server->set_payload_max_length(kMaxBody);
  // Headers and body go out in separate writes: without TCP_NODELAY a
  // keep-alive client waits on Nagle and delayed ACKs (40 ms a request).
  server->set_tcp_nodelay(true);
  server->set_read_timeout(10, 0);
  server->set_write_timeout(10, 0);
  server->set_keep_alive_timeout(30);
  server->new_task_queue = [] { return new httplib::ThreadPool(8); };
  for (const auto& [prefix, dir] : options.static_dirs) {
    if (!server->set_mount_point(prefix, dir)) {
      return absl::InvalidArgumentError(absl::StrCat("HTTP: cannot serve ", dir, " (not a directory)"));
    }
  }
  server->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404 && res.body.empty()) Error(res, 5, absl::StrCat("no route for ", req.method, " ", req.path));
  });
  server->set_file_request_handler([](const httplib::Request&, httplib::Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'");
  });
  auto gateway = std::make_unique<GatewayImpl>(std::move(tls_files), std::move(server), std::move(jwt), sec.insecure,
                                               std::move(channel));
  for (Route& r : routes) {
    auto compiled = CompilePath(r.path);
    if (!compiled.ok()) return compiled.status();
    std::string name = r.method.substr(1);
    std::replace(name.begin(), name.end(), '/', '.');
    const google::protobuf::MethodDescriptor* m =
        google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
    if (m == nullptr || m->client_streaming() || m->server_streaming()) {
      return absl::InvalidArgumentError(absl::StrCat("HTTP route ", r.path, ": ", r.method, " is not a unary method"));
    }
    if (r.verb != "GET" && r.verb != "POST") {
      return absl::InvalidArgumentError(absl::StrCat("HTTP route ", r.path, ": verb ", r.verb, " (GET or POST)"));
    }
    gateway->Route({std::move(r), compiled->fields, m});
  }
  if (absl::Status s = gateway->Listen(options.listen); !s.ok()) return s;
  return gateway;
}

}  // namespace takt::http
