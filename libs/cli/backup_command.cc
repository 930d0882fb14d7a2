#include "libs/cli/backup_command.h"

#include <grpcpp/grpcpp.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "libs/auth/test_certs.h"
#include "libs/cli/grpc_client.h"
#include "nlohmann/json.hpp"
#include "services/registry.h"
#include "takt/operations/v1/operations.grpc.pb.h"

namespace takt::cli {
namespace {

namespace ov1 = ::takt::operations::v1;
namespace fs = std::filesystem;

void Print(const ov1::BackupResponse& r, bool json, std::ostream& out) {
  if (json) {
    out << ToJson(r) << "\n";
    return;
  }
  out << "backup " << r.dir() << " (" << r.created() << "): " << absl::StrJoin(r.parts(), ", ") << "; " << r.bytes()
      << " bytes" << (r.log_included() ? "" : "; the log is in Kafka, back it up there") << "\n";
}

}  // namespace

int RunBackup(const BackupArgs& args, std::ostream& out, std::ostream& err) {
  if (args.target.empty() == args.data_dir.empty()) {
    err << "takt: backup: give exactly one of --target (a running server) and --data-dir (no server running on it)\n";
    return 2;
  }
  ov1::BackupResponse response;
  if (!args.target.empty()) {
    auto channel = Connect(args.target, "enterprise", err);
    if (!channel) return 2;
    ov1::BackupRequest request;
    request.set_dir(args.out);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::hours(1));
    grpc::Status s = ov1::OperationsService::NewStub(channel)->Backup(&ctx, request, &response);
    if (!s.ok()) return Fail(err, "backup", s);
    Print(response, args.json, out);
    return 0;
  }
  // Offline: this process opens the data directory (refused while a server
  // holds it) and copies it the way a server would. Its server listens on
  // loopback with mutual TLS against a CA made for this run and forgotten:
  // nobody can connect while the modules start and the copy is made.
  char pattern[] = "/tmp/takt-backup-XXXXXX";
  const char* tmp = mkdtemp(pattern);
  if (tmp == nullptr) {
    err << "takt: backup: cannot make a temporary directory\n";
    return 2;
  }
  const std::string tls = tmp;
  {
    const auth::testing::Pem ca = auth::testing::MakeCa("takt backup, this run only");
    const auth::testing::Pem identity = auth::testing::MakeCertificate(ca, "service:takt-backup");
    auth::testing::WriteFile(tls + "/server.pem", identity.cert);
    auth::testing::WriteFile(tls + "/server.key", identity.key);
    auth::testing::WriteFile(tls + "/ca.pem", ca.cert);
  }
  host::ServerOptions o;
  o.data_dir = args.data_dir;
  o.listen = "127.0.0.1:0";
  o.security.cert_file = tls + "/server.pem";
  o.security.key_file = tls + "/server.key";
  o.security.client_ca_file = tls + "/ca.pem";
  o.security.require_client_certificate = true;
  auto server = services::StartServer(o);
  std::error_code ec;
  fs::remove_all(tls, ec);
  if (!server.ok()) {
    err << "takt: backup: " << server.status().message()
        << (server.status().code() == absl::StatusCode::kFailedPrecondition
                ? " (is a server running on it? then use --target)"
                : "")
        << "\n";
    return 2;
  }
  auto r = (*server)->Backup(args.out);
  (*server)->Shutdown();
  if (!r.ok()) {
    err << "takt: backup: " << r.status().message() << "\n";
    return 2;
  }
  response.set_dir(r->dir);
  for (const std::string& p : r->parts) response.add_parts(p);
  response.set_bytes(r->bytes);
  response.set_created(absl::FormatTime(absl::RFC3339_sec, r->created, absl::UTCTimeZone()));
  response.set_log_included(r->log_included);
  Print(response, args.json, out);
  return 0;
}

int RunRestore(const RestoreArgs& args, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  std::ifstream manifest_file(args.from + "/MANIFEST.json");
  std::stringstream text;
  text << manifest_file.rdbuf();
  const nlohmann::json manifest = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!manifest.is_object() || manifest.value("format", "") != "takt-backup-1" || !manifest.contains("parts") ||
      !manifest["parts"].is_array()) {
    err << "takt: restore: " << args.from << " is not a Takt backup (no readable MANIFEST.json)\n";
    return 2;
  }
  if (fs::exists(args.data_dir, ec) && !fs::is_empty(args.data_dir, ec)) {
    err << "takt: restore: " << args.data_dir << " is not empty: restore into a new data directory\n";
    return 2;
  }
  const bool existed = fs::exists(args.data_dir, ec);
  auto undo = [&] {
    if (existed) {
      for (const auto& entry : fs::directory_iterator(args.data_dir, ec)) fs::remove_all(entry.path(), ec);
    } else {
      fs::remove_all(args.data_dir, ec);
    }
  };
  std::vector<std::string> parts;
  for (const auto& part : manifest["parts"]) {
    if (!part.is_string()) {
      err << "takt: restore: MANIFEST.json lists a part that is not a name\n";
      return 2;
    }
    const std::string name = part.get<std::string>();
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
      err << "takt: restore: MANIFEST.json names a bad part '" << name << "'\n";
      return 2;
    }
    parts.push_back(name);
  }
  fs::create_directories(args.data_dir, ec);
  for (const std::string& name : parts) {
    fs::copy(args.from + "/" + name, args.data_dir + "/" + name,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) {
      err << "takt: restore: copying " << name << ": " << ec.message() << "; nothing was restored\n";
      undo();
      return 2;
    }
  }
  out << "restored " << args.from << " (taken " << manifest.value("created", "?") << ") into " << args.data_dir
      << ": " << absl::StrJoin(parts, ", ") << "\n"
      << (manifest.value("log_included", false)
              ? "takt serve --data-dir " + args.data_dir + " rebuilds the rollups from the log; "
                    "takt log verify --data-dir " + args.data_dir + " checks it first\n"
              : "the log is in Kafka: start takt serve against the same cluster\n");
  return 0;
}

}  // namespace takt::cli
