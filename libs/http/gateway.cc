#include "libs/http/gateway.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "libs/auth/jwt.h"
#include "libs/auth/principal.h"
#include "libs/common/log.h"
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

void Error(httplib::Response& res, int code, std::string message) {
  if (code < 0 || code > 16) code = 2;
  if (message.size() > kMaxMessage) message.resize(kMaxMessage);
  res.status = HttpStatusOf(code);
  res.set_content(
      Dump({{"error", {{"code", res.status}, {"status", kStatusNames[code]}, {"message", message}}}}),
      "application/json");
}

std::string RegexEscape(char c) {
  static const std::string kSpecial = R"(\^$.|?*+()[]{}-)";
  return kSpecial.find(c) == std::string::npos ? std::string(1, c) : std::string("\\") + c;
}

// One compiled route: the regex, its fields, the method.
struct Bound {
  Route route;
  std::vector<std::string> fields;
  const google::protobuf::MethodDescriptor* method = nullptr;
};

class GatewayImpl final : public Gateway {
 public:
  GatewayImpl(std::unique_ptr<httplib::Server> server, std::unique_ptr<auth::JwtVerifier> jwt, bool insecure,
              std::shared_ptr<grpc::Channel> channel)
      : server_(std::move(server)), jwt_(std::move(jwt)), insecure_(insecure), channel_(std::move(channel)) {}
  ~GatewayImpl() override { Stop(); }

  absl::Status Listen(const std::string& listen) {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("--http-listen '", listen, "' is not host:port"));
    }
    const std::string host = listen.substr(0, colon);
    int port = 0;
    try {
      port = std::stoi(listen.substr(colon + 1));
    } catch (...) {
      port = -1;
    }
    if (port < 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("--http-listen '", listen, "' has no valid port"));
    }
    port_ = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
    if (port_ <= 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", listen, ": in use or not valid here"));
    }
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
    if (!s.ok()) return Error(res, s.error_code(), s.error_message());
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
    auto tls = std::make_unique<httplib::SSLServer>(sec.cert_file.c_str(), sec.key_file.c_str());
    if (!tls->is_valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("HTTP: cannot use ", sec.cert_file, " and ", sec.key_file, " for TLS"));
    }
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
  auto gateway = std::make_unique<GatewayImpl>(std::move(server), std::move(jwt), sec.insecure, std::move(channel));
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
