#include "services/audit/history.h"

#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "nlohmann/json.hpp"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "libs/common/ids.h"
#include "libs/common/plan_stream.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/record.h"
#include "libs/eventlog/verifier.h"
#include "libs/model/model_store.h"

namespace takt::audit {
namespace {

constexpr size_t kReadChunk = 8192;

// A payload as JSON by its type name: every module lists its payload files
// (ModuleInfo::payload_files), so their types are in the generated pool.
std::string PayloadJson(const std::string& type, const std::string& payload) {
  const auto* desc = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type);
  if (desc != nullptr) {
    const google::protobuf::Message* proto =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(desc);
    std::unique_ptr<google::protobuf::Message> m(proto->New());
    if (m->ParseFromString(payload)) {
      std::string json;
      google::protobuf::util::JsonPrintOptions o;
      o.preserve_proto_field_names = true;
      if (google::protobuf::util::MessageToJsonString(*m, &json, o).ok()) return json;
    }
  }
  return nlohmann::json{{"undecoded_base64", absl::Base64Escape(payload)}}.dump();
}

// Enterprise events that concern the facility: its own definitions, and
// master data without a facility (regions, products).
bool ConcernsFacility(const eventlog::v1::Envelope& e, const std::string& facility) {
  const auto* desc =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(e.event_type());
  if (desc == nullptr) return true;
  // Role bindings (RoleGranted, RoleRevoked) name a scope: a facility's
  // concern the facility itself, the enterprise's and the regions' (who
  // may reach it from above); another facility's do not.
  const auto* scope = desc->FindFieldByName("scope");
  const auto* field = desc->FindFieldByName("facility");
  const auto* named = field != nullptr ? field : scope;
  if (named == nullptr || named->type() != google::protobuf::FieldDescriptor::TYPE_STRING) return true;
  std::unique_ptr<google::protobuf::Message> m(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(desc)->New());
  if (!m->ParseFromString(e.payload())) return true;
  const std::string value = m->GetReflection()->GetString(*m, named);
  if (field != nullptr) return value == facility;
  return value.rfind("facilities/", 0) != 0 || value == "facilities/" + facility;
}

std::string Csv(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string Rfc3339(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::ToString(t);
}

}  // namespace

absl::StatusOr<std::vector<eventlog::StreamId>> FacilityStreams(
    const std::string& facility, const std::vector<es::ContextDescriptor>& contexts,
    const std::vector<std::string>& requested) {
  for (const std::string& c : requested) {
    if (std::none_of(contexts.begin(), contexts.end(),
                     [&](const es::ContextDescriptor& d) { return d.name == c; })) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown context '", c, "' (contexts are ",
                       absl::StrJoin(es::ContextNames(contexts), ", "), ")"));
    }
  }
  std::vector<eventlog::StreamId> out;
  for (const es::ContextDescriptor& d : contexts) {
    if (!requested.empty() && std::find(requested.begin(), requested.end(), d.name) == requested.end()) {
      continue;
    }
    for (std::string& stream : d.facility_streams(facility)) out.push_back({d.name, std::move(stream)});
  }
  return out;
}

v1::AuditedEvent ToAudited(const eventlog::v1::Envelope& e, bool with_record) {
  v1::AuditedEvent a;
  a.set_context(e.context());
  a.set_stream(e.facility());
  a.set_sequence(e.sequence());
  a.set_event_id(e.event_id());
  a.set_event_type(e.event_type());
  *a.mutable_occurred_time() = e.occurred_time();
  *a.mutable_recorded_time() = e.recorded_time();
  a.set_actor(e.actor());
  a.set_source_id(e.source_id());
  a.set_source_sequence(e.source_sequence());
  a.set_request_id(e.request_id());
  a.set_payload_json(PayloadJson(e.event_type(), e.payload()));
  a.set_hash(e.hash());
  if (with_record) a.set_record(eventlog::EncodeRecord(e));
  return a;
}

absl::StatusOr<uint64_t> Replay(eventlog::EventLog& log,
                                const std::vector<es::ContextDescriptor>& contexts,
                                const v1::ReplayRequest& req,
                                const std::function<void(const v1::ReplayItem&)>& emit) {
  TAKT_RETURN_IF_ERROR(ValidateFacilityId(req.facility()));
  if (req.with_proofs() && (req.has_from_time() || req.has_to_time() || req.event_types_size() > 0)) {
    return absl::InvalidArgumentError(
        "with proofs, a replay must be contiguous: bound it by sequence or as-of time, not by "
        "occurred time or event type");
  }
  if (req.to_sequence() > 0 && req.from_sequence() > req.to_sequence()) {
    return absl::InvalidArgumentError("from_sequence is after to_sequence");
  }
  TAKT_ASSIGN_OR_RETURN(
      const std::vector<eventlog::StreamId> streams,
      FacilityStreams(req.facility(), contexts,
                      std::vector<std::string>(req.contexts().begin(), req.contexts().end())));
  const std::set<std::string> types(req.event_types().begin(), req.event_types().end());
  uint64_t emitted = 0;
  for (const eventlog::StreamId& stream : streams) {
    uint64_t first = 0, last = 0;  // sequences emitted
    bool stop = false;
    // The chain is checked as the records are read: a replay never shows
    // an altered, missing or moved event as if it were sound.
    std::optional<eventlog::ChainChecker> chain;
    absl::Status broken;
    for (uint64_t from = std::max<uint64_t>(1, req.from_sequence()); !stop;) {
      size_t want = kReadChunk;
      if (req.to_sequence() > 0) {
        if (from > req.to_sequence()) break;
        want = std::min<uint64_t>(want, req.to_sequence() - from + 1);
      }
      uint64_t read = 0;
      absl::Status s = log.ReadRecords(stream, from, want, [&](uint64_t seq, std::string_view record) {
        ++read;
        from = seq + 1;
        if (stop || !broken.ok()) return;
        if (!chain) chain.emplace(seq, seq == 1 ? eventlog::ZeroHash() : std::string(), nullptr);
        // Add() passes an intact event filed under another sequence and
        // decides on the next record; failure() reports it at once, so a
        // moved event is never shown, not even as the last one.
        if (!chain->Add(seq, record) || chain->failure()) {
          const auto f = chain->failure();
          broken = absl::DataLossError(absl::StrCat(
              "replay stopped: ", stream.context, "/", stream.facility, " is ",
              eventlog::FailureKindName(f ? f->kind : eventlog::FailureKind::kAltered),
              " at sequence ", f ? f->sequence : seq, "; run takt audit verify"));
          return;
        }
        auto decoded = eventlog::DecodeRecord(record);
        if (!decoded.ok()) {
          broken = decoded.status();
          return;
        }
        const eventlog::v1::Envelope& e = *decoded;
        if (req.has_as_of_time() && ToTime(e.recorded_time()) > ToTime(req.as_of_time())) {
          stop = true;  // the history as it stood then is a prefix of each stream
          return;
        }
        if (req.has_from_time() && ToTime(e.occurred_time()) < ToTime(req.from_time())) return;
        if (req.has_to_time() && ToTime(e.occurred_time()) >= ToTime(req.to_time())) return;
        if (!types.empty() && !types.count(e.event_type())) return;
        // The enterprise stream is shared by all facilities. A replay shows
        // the facility's own entries; an export with proofs carries the
        // whole stream, since a chain with holes cannot be verified (it is
        // the enterprise's structure: ids, names, calendars; no figures).
        if (stream.context == model::kEnterpriseContext && !req.with_proofs() &&
            !ConcernsFacility(e, req.facility())) {
          return;
        }
        v1::ReplayItem item;
        *item.mutable_event() = ToAudited(e, false);
        if (req.with_proofs()) item.mutable_event()->set_record(std::string(record));
        emit(item);
        ++emitted;
        if (first == 0) first = e.sequence();
        last = e.sequence();
      });
      if (!s.ok()) {
        // Contexts nobody has written yet are empty, not errors.
        if (s.code() == absl::StatusCode::kNotFound) break;
        return s;
      }
      TAKT_RETURN_IF_ERROR(broken);
      if (read < want) break;
    }
    if (req.with_proofs() && first > 0) {
      TAKT_ASSIGN_OR_RETURN(auto checkpoints, log.ReadCheckpoints(stream));
      for (const auto& c : checkpoints) {
        if (c.sequence() < first || c.sequence() > last) continue;
        v1::ReplayItem item;
        auto* sc = item.mutable_checkpoint();
        sc->set_context(stream.context);
        sc->set_stream(stream.facility);
        sc->set_sequence(c.sequence());
        sc->set_checkpoint(c.SerializeAsString());
        emit(item);
      }
    }
  }
  return emitted;
}

std::string ToJsonLine(const v1::ReplayItem& item) {
  std::string json;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(item, &json, o);
  return json;
}

std::string CsvHeader() {
  return "context,stream,sequence,recorded_time,occurred_time,actor,event_type,source_id,"
         "source_sequence,request_id,event_id,hash,payload";
}

std::string ToCsvLine(const v1::AuditedEvent& e) {
  return absl::StrCat(Csv(e.context()), ",", Csv(e.stream()), ",", e.sequence(), ",",
                      Rfc3339(e.recorded_time()), ",", Rfc3339(e.occurred_time()), ",",
                      Csv(e.actor()), ",", Csv(e.event_type()), ",", Csv(e.source_id()), ",",
                      e.source_sequence(), ",", Csv(e.request_id()), ",", Csv(e.event_id()), ",",
                      HexEncode(e.hash()), ",", Csv(e.payload_json()));
}

absl::StatusOr<eventlog::VerifyReport> VerifyExport(std::string_view jsonl,
                                                    const crypto::KeyRing& keys,
                                                    const std::vector<eventlog::VerifiedHead>& kept) {
  struct Stream {
    std::vector<std::pair<int, v1::AuditedEvent>> events;  // (line, event)
    std::vector<eventlog::v1::Checkpoint> checkpoints;
  };
  std::map<eventlog::StreamId, Stream> streams;
  eventlog::VerifyReport report;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(jsonl.data(), jsonl.size()), '\n')) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == absl::string_view::npos) continue;
    v1::ReplayItem item;
    auto st = google::protobuf::util::JsonStringToMessage(std::string(line), &item);
    if (!st.ok()) {
      report.failures.push_back({"", "", 0, eventlog::FailureKind::kAltered,
                                 absl::StrCat("line ", line_no, " is not an export line: ",
                                              st.message().as_string())});
      continue;
    }
    if (item.has_event()) {
      streams[{item.event().context(), item.event().stream()}].events.push_back({line_no, item.event()});
    } else if (item.has_checkpoint()) {
      eventlog::v1::Checkpoint c;
      if (!c.ParseFromString(item.checkpoint().checkpoint())) {
        report.failures.push_back({item.checkpoint().context(), item.checkpoint().stream(),
                                   item.checkpoint().sequence(), eventlog::FailureKind::kBadSignature,
                                   absl::StrCat("line ", line_no, ": the checkpoint does not decode")});
        continue;
      }
      streams[{item.checkpoint().context(), item.checkpoint().stream()}].checkpoints.push_back(c);
    }
  }
  for (auto& id_stream : streams) {
    // Named, not a structured binding: lambdas below capture them.
    const auto& id = id_stream.first;
    auto& s = id_stream.second;
    ++report.streams_checked;
    if (s.events.empty()) {
      report.failures.push_back({id.context, id.facility, 0, eventlog::FailureKind::kTruncated,
                                 "checkpoints without any event"});
      continue;
    }
    const uint64_t first = s.events.front().second.sequence();
    const std::set<uint64_t> wanted = eventlog::CheckpointSequences(s.checkpoints);
    eventlog::ChainChecker checker(first, first == 1 ? eventlog::ZeroHash() : std::string(), &wanted);
    std::optional<eventlog::VerifyFailure> edited;
    uint64_t position = first;  // where the line stands in the file
    for (const auto& [line, event] : s.events) {
      checker.Add(position++, event.record());
      if (edited) continue;
      // The readable fields must say what the signed record says.
      auto decoded = eventlog::DecodeRecord(event.record());
      if (!decoded.ok()) continue;  // the chain check reports it
      v1::AuditedEvent shown = event;
      shown.clear_record();
      v1::AuditedEvent truth = ToAudited(*decoded, false);
      if (!google::protobuf::util::MessageDifferencer::Equals(shown, truth)) {
        edited = eventlog::VerifyFailure{id.context, id.facility, event.sequence(),
                                         eventlog::FailureKind::kAltered,
                                         absl::StrCat("line ", line, ": the readable fields differ "
                                                      "from the event's signed record")};
      }
    }
    report.events_checked += checker.events();
    auto f = eventlog::FinishStream(id, {checker}, s.checkpoints, keys, 0,
                                    &report.checkpoints_checked);
    if (f) {
      f->context = id.context;
      f->facility = id.facility;
    }
    if (edited && (!f || edited->sequence <= f->sequence)) f = edited;
    // The export must extend every head kept for its streams.
    const uint64_t last = s.events.back().second.sequence();
    auto hash_at = [&](uint64_t seq) {
      std::string_view hash, body;
      for (const auto& [line, event] : s.events) {
        if (event.sequence() == seq && eventlog::SplitRecord(event.record(), &hash, &body)) {
          return std::string(hash);
        }
      }
      return std::string();
    };
    for (const eventlog::VerifiedHead& h : kept) {
      if (f || h.context != id.context || h.facility != id.facility) continue;
      if (last < h.sequence) {
        f = eventlog::VerifyFailure{id.context, id.facility, last + 1,
                                    eventlog::FailureKind::kRolledBack,
                                    absl::StrCat("the export ends at ", last,
                                                 ", before the kept head at ", h.sequence)};
      } else if (h.sequence >= first && hash_at(h.sequence) != h.hash) {
        f = eventlog::VerifyFailure{id.context, id.facility, h.sequence,
                                    eventlog::FailureKind::kForked,
                                    "the event here has another hash than the kept head"};
      }
    }
    if (f) report.failures.push_back(*f);
    report.heads.push_back(eventlog::VerifiedHead{id.context, id.facility, last, hash_at(last)});
  }
  return report;
}

absl::StatusOr<VerifiedReplayResult> VerifiedReplay(
    eventlog::EventLog& log, const std::vector<eventlog::StreamId>& streams, int threads,
    const std::function<void(const eventlog::v1::Envelope&)>& fn) {
  std::vector<VerifiedReplayResult> parts(std::max(1, threads));
  std::vector<absl::Status> errors(parts.size());
  std::atomic<size_t> next{0};
  const crypto::KeyRing keys = log.keys();
  auto work = [&](size_t t) {
    eventlog::v1::Envelope envelope;
    for (size_t i = next++; i < streams.size(); i = next++) {
      const eventlog::StreamId& id = streams[i];
      auto checkpoints = log.ReadCheckpoints(id);
      if (!checkpoints.ok()) {
        errors[t] = checkpoints.status();
        return;
      }
      const std::set<uint64_t> wanted = eventlog::CheckpointSequences(*checkpoints);
      eventlog::ChainChecker checker(1, eventlog::ZeroHash(), &wanted);
      for (uint64_t from = 1;;) {
        uint64_t n = 0;
        absl::Status s = log.ReadRecords(id, from, kReadChunk, [&](uint64_t seq, std::string_view record) {
          ++n;
          from = seq + 1;
          if (!checker.Add(seq, record) || checker.failure()) return;
          std::string_view hash, body;
          if (eventlog::SplitRecord(record, &hash, &body) &&
              envelope.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
            if (fn) fn(envelope);
          }
        });
        if (!s.ok()) {
          errors[t] = s;
          return;
        }
        if (n < kReadChunk) break;
      }
      VerifiedReplayResult& r = parts[t];
      ++r.report.streams_checked;
      r.report.events_checked += checker.events();
      r.events += checker.events();
      if (auto f = eventlog::FinishStream(id, {checker}, *checkpoints, keys, 0,
                                          &r.report.checkpoints_checked)) {
        f->context = id.context;
        f->facility = id.facility;
        r.report.failures.push_back(*f);
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < parts.size(); ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  VerifiedReplayResult out;
  for (size_t t = 0; t < parts.size(); ++t) {
    TAKT_RETURN_IF_ERROR(errors[t]);
    out.events += parts[t].events;
    out.report.streams_checked += parts[t].report.streams_checked;
    out.report.events_checked += parts[t].report.events_checked;
    out.report.checkpoints_checked += parts[t].report.checkpoints_checked;
    for (auto& f : parts[t].report.failures) out.report.failures.push_back(std::move(f));
  }
  return out;
}

}  // namespace takt::audit
