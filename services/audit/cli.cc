#include "services/audit/cli.h"

#include <iostream>
#include <memory>

#include "nlohmann/json.hpp"
#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"

#include "libs/cli/heads_file.h"

#include <cstdio>

#include <fstream>
#include <functional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "services/audit/history.h"
#include "libs/cli/grpc_client.h"
#include "libs/crypto/keyring.h"
#include "takt/audit/v1/audit.grpc.pb.h"

namespace takt::cli {
namespace {

namespace av1 = ::takt::audit::v1;

// Sets the field only when the flag was given (an unset time is no bound).
bool SetTime(const std::string& text, const std::function<google::protobuf::Timestamp*()>& field,
             const char* flag, std::ostream& err) {
  if (text.empty()) return true;
  if (google::protobuf::util::TimeUtil::FromString(text, field())) return true;
  err << "takt: audit: " << flag << ": not an RFC 3339 time (2026-03-02T06:00:00Z)\n";
  return false;
}

bool BuildReplay(const AuditArgs& args, av1::ReplayRequest* req, std::ostream& err) {
  req->set_facility(args.facility);
  for (const auto& c : args.contexts) req->add_contexts(c);
  for (const auto& t : args.types) req->add_event_types(t);
  req->set_from_sequence(args.from_sequence);
  req->set_to_sequence(args.to_sequence);
  req->set_purpose(args.purpose);
  return SetTime(args.from_time, [&] { return req->mutable_from_time(); }, "--from-time", err) &&
         SetTime(args.to_time, [&] { return req->mutable_to_time(); }, "--to-time", err) &&
         SetTime(args.as_of, [&] { return req->mutable_as_of_time(); }, "--as-of", err);
}

std::unique_ptr<av1::AuditService::Stub> Stub(const AuditArgs& args, std::ostream& err) {
  auto channel = Connect(args.target, "audit", err);
  if (!channel) return nullptr;
  return av1::AuditService::NewStub(channel);
}


// Streams a replay; `fn` sees every item. Returns an exit code.
int Stream(const AuditArgs& args, const av1::ReplayRequest& req, const char* what,
           const std::function<void(const av1::ReplayItem&)>& fn, std::ostream& err) {
  auto stub = Stub(args, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  auto reader = stub->Replay(&ctx, req);
  av1::ReplayItem item;
  while (reader->Read(&item)) fn(item);
  grpc::Status s = reader->Finish();
  if (!s.ok()) return Fail(err, what, s);
  return 0;
}

}  // namespace

int RunAuditReplay(const AuditArgs& args, std::ostream& out, std::ostream& err) {
  av1::ReplayRequest req;
  if (!BuildReplay(args, &req, err)) return 2;
  if (args.csv) out << audit::CsvHeader() << "\n";
  uint64_t n = 0;
  int rc = Stream(args, req, "audit replay", [&](const av1::ReplayItem& item) {
    if (!item.has_event()) return;
    ++n;
    const auto& e = item.event();
    if (args.json) {
      out << audit::ToJsonLine(item) << "\n";
    } else if (args.csv) {
      out << audit::ToCsvLine(e) << "\n";
    } else {
      out << absl::StrFormat("%s  %s/%s #%d  %s  %s  %s\n",
                             google::protobuf::util::TimeUtil::ToString(e.recorded_time()),
                             e.context(), e.stream(), e.sequence(), e.actor(), e.event_type(),
                             e.payload_json());
    }
  }, err);
  if (rc == 0 && !args.json && !args.csv) out << n << " events (this replay is recorded)\n";
  return rc;
}

int RunAuditExport(const AuditArgs& args, std::ostream& out, std::ostream& err) {
  if (args.format != "jsonl" && args.format != "csv") {
    err << "takt: audit export: --format is jsonl or csv\n";
    return 2;
  }
  av1::ReplayRequest req;
  if (!BuildReplay(args, &req, err)) return 2;
  req.set_with_proofs(args.format == "jsonl");
  // Written to a temporary file and renamed once complete: a failed
  // export leaves no partial file behind.
  const std::string tmp = args.out + ".partial";
  std::ofstream f(tmp, std::ios::trunc);
  if (!f) {
    err << "takt: audit export: cannot write " << tmp << "\n";
    return 2;
  }
  if (args.format == "csv") f << audit::CsvHeader() << "\n";
  uint64_t events = 0, checkpoints = 0;
  int rc = Stream(args, req, "audit export", [&](const av1::ReplayItem& item) {
    if (item.has_event()) ++events;
    if (item.has_checkpoint()) ++checkpoints;
    if (args.format == "jsonl") {
      f << audit::ToJsonLine(item) << "\n";
    } else if (item.has_event()) {
      f << audit::ToCsvLine(item.event()) << "\n";
    }
  }, err);
  f.close();
  if (rc != 0 || !f) {
    std::remove(tmp.c_str());
    if (rc == 0) err << "takt: audit export: writing " << tmp << " failed\n";
    return rc != 0 ? rc : 2;
  }
  if (std::rename(tmp.c_str(), args.out.c_str()) != 0) {
    std::remove(tmp.c_str());
    err << "takt: audit export: cannot rename " << tmp << " to " << args.out << "\n";
    return 2;
  }
  if (args.json) {
    out << nlohmann::json{{"events", events},
                          {"checkpoints", checkpoints},
                          {"facility", args.facility},
                          {"out", args.out}}
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
    return 0;
  }
  out << "exported " << events << " events and " << checkpoints << " signed checkpoints of "
      << args.facility << " to " << args.out
      << (args.format == "jsonl" ? " (verify it with takt audit verify --export)" : "") << "\n";
  return 0;
}

int RunAuditVerify(const AuditArgs& args, std::ostream& out, std::ostream& err) {
  if (!args.export_file.empty()) {
    // Offline: the export and a trusted public key, no server.
    if (args.public_key_file.empty()) {
      err << "takt: audit verify: --export needs --public-key (the trusted key file)\n";
      return 2;
    }
    auto key = crypto::ReadKeyRingFile(args.public_key_file);
    if (!key.ok()) {
      err << "takt: audit verify: " << key.status().message() << "\n";
      return 2;
    }
    if (!args.trusted_ring_file.empty()) {
      auto trusted = crypto::ReadKeyRingFile(args.trusted_ring_file);
      if (!trusted.ok()) {
        err << "takt: audit verify: " << trusted.status().message() << "\n";
        return 2;
      }
      if (absl::Status s = crypto::CheckExtends(*trusted, *key); !s.ok()) {
        out << "FAILED: " << args.public_key_file << ": " << s.message() << "\n";
        return 1;
      }
    }
    std::ifstream ein(args.export_file);
    if (!ein) {
      err << "takt: audit verify: cannot read " << args.export_file << "\n";
      return 2;
    }
    std::stringstream export_text;
    export_text << ein.rdbuf();
    std::vector<eventlog::VerifiedHead> kept;
    if (!args.trusted_heads_file.empty()) {
      auto read = ReadHeadsFile(args.trusted_heads_file);
      if (!read.ok()) {
        err << "takt: audit verify: " << read.status().message() << "\n";
        return 2;
      }
      kept = *std::move(read);
    }
    auto report = audit::VerifyExport(export_text.str(), *key, kept);
    if (!report.ok()) {
      err << "takt: audit verify: " << report.status().message() << "\n";
      return 2;
    }
    out << (args.json ? report->ToJson() : report->ToText()) << "\n";
    if (!args.save_heads_file.empty() && report->ok()) {
      if (absl::Status w = WriteHeadsFile(args.save_heads_file, report->heads); !w.ok()) {
        err << "takt: audit verify: " << w.message() << "\n";
        return 2;
      }
    }
    return report->ok() ? 0 : 1;
  }
  auto stub = Stub(args, err);
  if (!stub) return 2;
  av1::VerifyRequest req;
  req.set_facility(args.facility);
  for (const auto& c : args.contexts) req.add_contexts(c);
  grpc::ClientContext ctx;
  av1::VerifyResponse resp;
  grpc::Status s = stub->Verify(&ctx, req, &resp);
  if (!s.ok()) return Fail(err, "audit verify", s);
  if (args.json) {
    out << ToJson(resp) << "\n";
  } else {
    out << (resp.ok() ? "VERIFIED" : "FAILED") << ": " << resp.streams_checked() << " streams, "
        << resp.events_checked() << " events, " << resp.checkpoints_checked()
        << " signed checkpoints checked\n";
    for (const auto& f : resp.failures()) {
      out << "  " << f.context() << "/" << f.stream() << " sequence " << f.sequence() << ": "
          << f.kind() << " (" << f.detail() << ")\n";
    }
  }
  return resp.ok() ? 0 : 1;
}

int RunAuditExplain(const AuditArgs& args, std::ostream& out, std::ostream& err) {
  auto stub = Stub(args, err);
  if (!stub) return 2;
  av1::ExplainRequest req;
  req.set_scope(args.scope);
  req.set_kpi(args.kpi);
  req.set_from(args.from);
  req.set_to(args.to);
  grpc::ClientContext ctx;
  av1::ExplainResponse resp;
  grpc::Status s = stub->Explain(&ctx, req, &resp);
  if (!s.ok()) return Fail(err, "audit explain", s);
  if (args.json) {
    out << ToJson(resp) << "\n";
    return resp.equal() ? 0 : 1;
  }
  auto value = [](bool has, double v) { return has ? absl::StrFormat("%.6f", v) : std::string("-"); };
  out << resp.kpi() << " = " << resp.formula() << "\n";
  out << "  recomputed from " << resp.events_used() << " of " << resp.events_read()
      << " raw events: " << value(resp.has_value(), resp.recomputed_value()) << "\n";
  out << "  rollups projection:            " << value(resp.projection_has_value(), resp.projection_value())
      << "\n";
  out << "  " << (resp.equal() ? "EQUAL" : "DIFFERENT (a defect: please report it)") << "; element sums:\n";
  for (const auto& e : resp.elements()) {
    if (e.recomputed() == 0 && e.projection() == 0) continue;
    out << absl::StrFormat("    %-18s %20d %20d%s\n", e.name(), e.recomputed(), e.projection(),
                           e.recomputed() == e.projection() ? "" : "   <-- differs");
  }
  out << "  at log positions:";
  for (const auto& [stream, seq] : resp.positions()) out << " " << stream << "#" << seq;
  out << "\n";
  return resp.equal() ? 0 : 1;
}

void AddAuditCommands(CLI::App& app, int* exit_code) {
  constexpr char kTargetHelp[] =
    "Server address host:port, or one per service when they run as separate processes: "
    "enterprise=A,scheduling=B,rollups=C";
  struct State {
    AuditArgs audit_args;
    std::string audit_contexts;
    std::string audit_types;
  };
  auto st = std::make_shared<State>();
  // takt audit ...
  CLI::App* audit = app.add_subcommand("audit", "Auditors: replay, export, verify, explain");
  audit->require_subcommand(1);


  auto history_flags = [=](CLI::App* cmd) {
    cmd->add_option("--target", st->audit_args.target, kTargetHelp)->capture_default_str();
    cmd->add_option("--facility", st->audit_args.facility, "Facility id")->required();
    cmd->add_option("--context", st->audit_contexts,
                    "Comma-separated contexts (as takt kafka-dev creates topics for: enterprise, "
                    "scheduling, audit, ...); default: every registered context");
    cmd->add_option("--from-sequence", st->audit_args.from_sequence, "First sequence of each stream");
    cmd->add_option("--to-sequence", st->audit_args.to_sequence,
                    "Last sequence of each stream (the history as of that position)");
    cmd->add_option("--as-of", st->audit_args.as_of,
                    "RFC 3339: the history exactly as it stood then (recorded at or before)");
    cmd->add_option("--purpose", st->audit_args.purpose, "Why you read it (recorded with the read)");
  };
  auto split_lists = [=] {
    for (absl::string_view c : absl::StrSplit(st->audit_contexts, ',', absl::SkipEmpty())) {
      st->audit_args.contexts.emplace_back(c);
    }
    for (absl::string_view t : absl::StrSplit(st->audit_types, ',', absl::SkipEmpty())) {
      st->audit_args.types.emplace_back(t);
    }
  };
  CLI::App* replay_cmd = audit->add_subcommand(
      "replay", "A facility's history in order: who, what, when, source, readable payload");
  history_flags(replay_cmd);
  replay_cmd->add_option("--from-time", st->audit_args.from_time, "RFC 3339: occurred at or after");
  replay_cmd->add_option("--to-time", st->audit_args.to_time, "RFC 3339: occurred before");
  replay_cmd->add_option("--type", st->audit_types, "Comma-separated event types (full names)");
  replay_cmd->add_flag("--json", st->audit_args.json, "One JSON object per event");
  replay_cmd->add_flag("--csv", st->audit_args.csv, "CSV");
  replay_cmd->callback([=] {
    split_lists();
    *exit_code = RunAuditReplay(st->audit_args, std::cout, std::cerr);
  });
  CLI::App* export_cmd = audit->add_subcommand(
      "export", "Write a facility's history to a file: JSON Lines with proofs (verifiable "
                "offline), or CSV");
  history_flags(export_cmd);
  export_cmd->add_option("--out", st->audit_args.out, "File to write")->required();
  export_cmd->add_option("--format", st->audit_args.format, "jsonl | csv")->capture_default_str();
  export_cmd->add_flag("--json", st->audit_args.json, "Print the summary as JSON");
  export_cmd->callback([=] {
    split_lists();
    *exit_code = RunAuditExport(st->audit_args, std::cout, std::cerr);
  });
  CLI::App* averify_cmd = audit->add_subcommand(
      "verify", "Verify a facility's chains and signed checkpoints on the server, or an export "
                "offline (--export FILE --public-key KEY)");
  averify_cmd->add_option("--target", st->audit_args.target, kTargetHelp)->capture_default_str();
  averify_cmd->add_option("--facility", st->audit_args.facility, "Facility id (online)");
  averify_cmd->add_option("--context", st->audit_contexts, "Comma-separated contexts (online)");
  averify_cmd->add_option("--export", st->audit_args.export_file, "An export to verify offline");
  averify_cmd->add_option("--trusted-ring", st->audit_args.trusted_ring_file,
                          "With --export: a key ring kept earlier; --public-key's ring must extend it "
                          "(exit 1 otherwise)");
  averify_cmd->add_option("--public-key", st->audit_args.public_key_file,
                          "The trusted public key file (keys/checkpoint.pub)");
  averify_cmd->add_option("--trusted-heads", st->audit_args.trusted_heads_file,
                          "With --export: heads kept from an earlier verify; report a rollback "
                          "or fork against them");
  averify_cmd->add_option("--save-heads", st->audit_args.save_heads_file,
                          "With --export: after a clean verify, keep the export's stream heads");
  averify_cmd->add_flag("--json", st->audit_args.json, "JSON report");
  averify_cmd->callback([=] {
    split_lists();
    if (st->audit_args.export_file.empty() && st->audit_args.facility.empty()) {
      std::cerr << "takt: audit verify: give --facility (online) or --export (offline)\n";
      *exit_code = 2;
      return;
    }
    *exit_code = RunAuditVerify(st->audit_args, std::cout, std::cerr);
  });
  CLI::App* explain_cmd = audit->add_subcommand(
      "explain", "Recompute a KPI from raw events and compare it with the rollups");
  explain_cmd->add_option("--target", st->audit_args.target, kTargetHelp)->capture_default_str();
  explain_cmd->add_option("--scope", st->audit_args.scope,
                          "enterprise | regions/R | facilities/F[/areas|workCenters|workUnits/X]")
      ->required();
  explain_cmd->add_option("--kpi", st->audit_args.kpi, "KPI id")->required();
  explain_cmd->add_option("--from", st->audit_args.from, "First production day")->required();
  explain_cmd->add_option("--to", st->audit_args.to, "Last production day")->required();
  explain_cmd->add_flag("--json", st->audit_args.json, "Protobuf JSON");
  explain_cmd->callback([=] { *exit_code = RunAuditExplain(st->audit_args, std::cout, std::cerr); });

}

}  // namespace takt::cli
