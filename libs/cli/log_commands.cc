#include "libs/cli/log_commands.h"

#include <fstream>
#include <sstream>

#include "nlohmann/json.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/cli/heads_file.h"
#include "libs/common/ids.h"
#include "libs/crypto/ed25519.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/sample_events.h"

namespace takt::cli {

int RunLogVerify(const LogVerifyArgs& args, std::ostream& out, std::ostream& err) {
  eventlog::VerifyOptions options;
  options.context = args.context;
  options.facility = args.facility;
  if (!args.public_key_file.empty()) {
    std::ifstream in(args.public_key_file);
    if (!in) {
      err << "takt: cannot read public key file " << args.public_key_file << "\n";
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto key = crypto::ParsePublicKeyText(ss.str());
    if (!key.ok()) {
      err << "takt: " << args.public_key_file << ": " << key.status().message() << "\n";
      return 2;
    }
    options.public_key = *key;
  }
  if (!args.trusted_heads_file.empty()) {
    auto kept = ReadHeadsFile(args.trusted_heads_file);
    if (!kept.ok()) {
      err << "takt: log verify: " << kept.status().message() << "\n";
      return 2;
    }
    options.trusted_heads = *std::move(kept);
  }
  auto report = eventlog::VerifyEmbeddedLogDirectory(args.data_dir, options);
  if (!report.ok()) {
    err << "takt: log verify: " << report.status().message() << "\n";
    return 2;
  }
  out << (args.json ? report->ToJson() + "\n" : report->ToText());
  if (!args.save_heads_file.empty() && report->ok()) {
    if (absl::Status w = WriteHeadsFile(args.save_heads_file, report->heads); !w.ok()) {
      err << "takt: log verify: " << w.message() << "\n";
      return 2;
    }
    if (!args.json) {
      out << report->heads.size() << " stream heads kept in " << args.save_heads_file
          << ": verify later with --trusted-heads " << args.save_heads_file << "\n";
    }
  }
  return report->ok() ? 0 : 1;
}

int RunLogPublicKey(const std::string& data_dir, bool json, std::ostream& out, std::ostream& err) {
  std::ifstream in(data_dir + "/keys/checkpoint.pub");
  if (!in) {
    err << "takt: no public key in " << data_dir << "/keys (has a server run there?)\n";
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  if (!json) {
    out << text.str();
    return 0;
  }
  auto key = crypto::ParsePublicKeyText(text.str());
  if (!key.ok()) {
    err << "takt: " << data_dir << "/keys/checkpoint.pub: " << key.status().message() << "\n";
    return 2;
  }
  out << nlohmann::json{{"public_key", HexEncode(*key)}}.dump() << "\n";
  return 0;
}

int RunLogDemo(const std::string& data_dir, bool json, std::ostream& out, std::ostream& err) {
  eventlog::EmbeddedLogOptions options;
  options.data_dir = data_dir;
  options.checkpoint_interval = 100;
  auto opened = eventlog::OpenEmbeddedLog(options);
  if (!opened.ok()) {
    err << "takt: " << opened.status().message() << "\n";
    return 2;
  }
  eventlog::EventLog& log = **opened;
  const char* facilities[] = {"detroit-1", "monterrey-2", "stuttgart-3"};
  uint64_t appended = 0;
  uint64_t duplicates = 0;
  absl::Time t0 = absl::Now();
  for (const char* f : facilities) {
    auto heads = log.Heads("scheduling");
    uint64_t base = 0;
    for (const auto& h : *heads) {
      if (h.stream.facility == f) base = h.sequence;
    }
    // A gateway sends 1,000 production counts in batches of 50, resending
    // every fifth batch as it would after a reconnect.
    for (int b = 0; b < 20; ++b) {
      eventlog::AppendRequest r;
      r.context = "scheduling";
      r.facility = f;
      for (int i = 0; i < 50; ++i) {
        uint64_t source_seq = base + static_cast<uint64_t>(b * 50 + i);
        r.events.push_back(eventlog::SampleEvent(absl::StrCat("good=", source_seq % 7),
                                               absl::StrCat(f, "-gw"), source_seq));
        r.events.back().set_event_type("takt.scheduling.v1.ProductionCounted");
      }
      for (int send = 0; send < (b % 5 == 0 ? 2 : 1); ++send) {
        auto result = log.Append(r);
        if (!result.ok()) {
          err << "takt: append failed: " << result.status().message() << "\n";
          return 2;
        }
        for (const auto& e : result->events) (e.duplicate ? duplicates : appended)++;
      }
    }
  }
  double append_ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
  if (!log.CheckpointAll().ok()) return 2;
  auto heads = log.Heads("");
  uint64_t read = 0;
  for (const auto& h : *heads) {
    auto events = log.ReadStream(h.stream, 1, 1'000'000);
    if (!events.ok()) {
      err << "takt: read failed: " << events.status().message() << "\n";
      return 2;
    }
    read += events->size();
  }
  auto report = log.Verify({});
  if (!report.ok()) {
    err << "takt: verify failed: " << report.status().message() << "\n";
    return 2;
  }
  if (json) {
    out << nlohmann::json{{"appended", appended},
                          {"duplicates_acknowledged", duplicates},
                          {"events_read", read},
                          {"verify", nlohmann::json::parse(report->ToJson())}}
               .dump()
        << "\n";
  } else {
    out << absl::StrFormat(
        "Takt event log demo (%s)\n"
        "  appended %d observations durably in %.0f ms; %d resent duplicates acknowledged, "
        "not stored again\n"
        "  streams:\n",
        data_dir, appended, append_ms, duplicates);
    for (const auto& h : *heads) {
      out << absl::StrFormat("    %s/%-12s head %6d  hash %s...\n", h.stream.context,
                             h.stream.facility, h.sequence, HexEncode(h.hash).substr(0, 16));
    }
    out << "  read back " << read << " events\n  verify: " << report->ToText();
    out << "  checkpoint public key: " << HexEncode(log.public_key()) << "\n";
  }
  return report->ok() ? 0 : 1;
}

}  // namespace takt::cli
