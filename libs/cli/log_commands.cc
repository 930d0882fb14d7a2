#include "libs/cli/log_commands.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "nlohmann/json.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/cli/heads_file.h"
#include "libs/common/ids.h"
#include "libs/crypto/keyring.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/sample_events.h"

namespace takt::cli {

int RunLogVerify(const LogVerifyArgs& args, std::ostream& out, std::ostream& err) {
  eventlog::VerifyOptions options;
  options.context = args.context;
  options.facility = args.facility;
  if (!args.public_key_file.empty()) {
    auto keys = crypto::ReadKeyRingFile(args.public_key_file);
    if (!keys.ok()) {
      err << "takt: log verify: " << keys.status().message() << "\n";
      return 2;
    }
    options.keys = *std::move(keys);
  }
  if (!args.trusted_ring_file.empty()) {
    auto trusted = crypto::ReadKeyRingFile(args.trusted_ring_file);
    auto ring = options.keys ? absl::StatusOr<crypto::KeyRing>(*options.keys)
                             : crypto::ReadKeyRingFile(args.data_dir + "/keys/checkpoint.pub");
    if (!trusted.ok() || !ring.ok()) {
      err << "takt: log verify: " << (!trusted.ok() ? trusted.status() : ring.status()).message() << "\n";
      return 2;
    }
    if (absl::Status s = crypto::CheckExtends(*trusted, *ring); !s.ok()) {
      out << "FAILED: " << s.message() << "\n";
      return 1;
    }
    options.keys = *std::move(ring);
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
  auto keys = crypto::ReadKeyRingFile(data_dir + "/keys/checkpoint.pub");
  if (absl::IsNotFound(keys.status())) {
    err << "takt: no public key in " << data_dir << "/keys (has a server run there?)\n";
    return 2;
  }
  if (!keys.ok()) {
    err << "takt: " << keys.status().message() << "\n";
    return 2;
  }
  if (!json) {
    out << keys->Text();
    return 0;
  }
  nlohmann::json list = nlohmann::json::array();
  for (const crypto::KeyRing::Key& k : keys->keys()) {
    nlohmann::json j{{"key_id", k.key_id}, {"public_key", HexEncode(k.public_key)}};
    if (k.not_before != absl::InfinitePast()) j["signs_from"] = absl::FormatTime(absl::RFC3339_full, k.not_before, absl::UTCTimeZone());
    if (k.not_after != absl::InfiniteFuture()) j["retired_at"] = absl::FormatTime(absl::RFC3339_full, k.not_after, absl::UTCTimeZone());
    list.push_back(std::move(j));
  }
  out << nlohmann::json{{"public_key", HexEncode(keys->current().public_key)},
                        {"key_id", keys->current().key_id},
                        {"keys", std::move(list)}}
             .dump()
      << "\n";
  return 0;
}

int RunLogRotateKey(const std::string& data_dir, bool json, std::ostream& out, std::ostream& err) {
  const std::string key_path = data_dir + "/keys/checkpoint.key";
  // On an embedded log the new key signs from after its newest checkpoint
  // even when this machine's clock is behind (Kafka: from now).
  auto ring = std::filesystem::exists(data_dir + "/log/CURRENT")
                  ? eventlog::RotateEmbeddedLogKey(data_dir, absl::Now())
                  : crypto::RotateSigningKey(key_path, absl::Now());
  if (!ring.ok()) {
    err << "takt: log rotate-key: " << ring.status().message() << "\n";
    return 2;
  }
  const crypto::KeyRing::Key& next = ring->current();
  const crypto::KeyRing::Key& retired = ring->keys()[ring->keys().size() - 2];
  if (json) {
    out << nlohmann::json{{"retired_key_id", retired.key_id},
                          {"key_id", next.key_id},
                          {"public_key", HexEncode(next.public_key)},
                          {"signs_from", absl::FormatTime(absl::RFC3339_full, next.not_before, absl::UTCTimeZone())},
                          {"keys", ring->keys().size()}}
               .dump()
        << "\n";
    return 0;
  }
  out << "key " << retired.key_id << " retired; key " << next.key_id << " signs checkpoints from "
      << absl::FormatTime(absl::RFC3339_full, next.not_before, absl::UTCTimeZone()) << " on (" << ring->keys().size()
      << " keys in " << data_dir << "/keys/checkpoint.pub)\n"
      << "the old key file was replaced (backups taken before now still hold it); give auditors "
         "the new key ring (takt log public-key --data-dir "
      << data_dir
      << "): it must extend the ring they hold, line for line, with one new rotation signed by "
         "the key before\n";
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
    out << "  checkpoint public key: " << HexEncode(log.keys().current().public_key) << "\n";
  }
  return report->ok() ? 0 : 1;
}

}  // namespace takt::cli
