#include "libs/cli/grpc_client.h"

#include <cstdlib>

#include "absl/status/status.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "libs/auth/transport.h"

namespace takt::cli {

absl::StatusOr<std::string> TargetFor(const std::string& target, const std::string& service) {
  if (target.find('=') == std::string::npos) return target;
  for (absl::string_view part : absl::StrSplit(target, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (kv.first == service && !kv.second.empty()) return kv.second;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--target names no address for the ", service, " service"));
}

std::shared_ptr<grpc::Channel> Connect(const std::string& target, const std::string& service,
                                       std::ostream& err) {
  auto address = TargetFor(target, service);
  if (!address.ok()) {
    err << "takt: " << address.status().message() << "\n";
    return nullptr;
  }
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v == nullptr ? "" : v);
  };
  auto credentials = auth::MakeChannelCredentials(env("TAKT_TLS_CA"), env("TAKT_TLS_CERT"), env("TAKT_TLS_KEY"),
                                                  env("TAKT_TOKEN"));
  if (!credentials.ok()) {
    err << "takt: " << credentials.status().message() << "\n";
    return nullptr;
  }
  return grpc::CreateChannel(*address, *credentials);
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, o);
  return json;
}

int Fail(std::ostream& err, const std::string& what, const grpc::Status& s) {
  err << "takt: " << what << ": " << s.error_message() << " ("
      << absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())) << ")\n";
  return 2;
}

}  // namespace takt::cli
