#include "services/staffing/cli.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "libs/cli/grpc_client.h"
#include "libs/cli/simulate_steps.h"
#include "libs/cli/yaml_json.h"
#include "libs/common/status_macros.h"
#include "services/staffing/simulate.h"
#include "takt/staffing/v1/staffing_service.grpc.pb.h"
#include "libs/common/default_address.h"

namespace takt::staffing {
namespace {

constexpr char kService[] = "staffing";
constexpr char kTargetHelp[] =
    "Server address host:port, or one per service: staffing=A,rollups=B,...";
constexpr int kBatch = 1000;

struct Args {
  std::string target = kDefaultAddress;
  std::string file, facility, person, day, shift, station, override_reason, reason, purpose, from, to,
      as_of, scope = "enterprise", request_id;
  uint32_t within = 90;
  bool json = false, dry_run = false, gaps_only = false, unassign = false;
};

std::unique_ptr<v1::StaffingService::Stub> Stub(const Args& a, std::ostream& err) {
  auto channel = cli::Connect(a.target, kService, err);
  return channel ? v1::StaffingService::NewStub(channel) : nullptr;
}

int Usage(std::ostream& err, const std::string& what) {
  err << "takt: " << what << "\n";
  return 2;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int RunApply(const Args& a, std::ostream& out, std::ostream& err) {
  auto text = ReadFile(a.file);
  if (!text.ok()) return Usage(err, std::string(text.status().message()));
  auto request = StaffFromYaml(*text);
  if (!request.ok()) return Usage(err, absl::StrCat(a.file, ": ", request.status().message()));
  if (!a.facility.empty()) request->set_facility(a.facility);
  request->set_validate_only(a.dry_run);
  if (request->request_id().empty()) request->set_request_id(a.request_id);
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::ApplyStaffResponse response;
  grpc::Status s = stub->ApplyStaff(&ctx, *request, &response);
  if (!s.ok()) return cli::Fail(err, absl::StrCat("apply ", a.file), s);
  out << (a.dry_run ? "would change " : "changed ") << response.changed() << ", unchanged "
      << response.unchanged() << "\n";
  return 0;
}

int RunAssign(const Args& a, std::ostream& out, std::ostream& err) {
  v1::RosterRequest r;
  r.set_facility(a.facility);
  r.set_request_id(a.request_id);
  r.set_validate_only(a.dry_run);
  if (!a.file.empty()) {
    std::ifstream in(a.file);
    if (!in) return Usage(err, absl::StrCat("cannot read ", a.file));
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto st = google::protobuf::util::JsonStringToMessage(line, r.add_assign());
      if (!st.ok()) return Usage(err, absl::StrCat(a.file, ":", line_no, ": ", std::string(st.message())));
    }
  } else if (!a.from.empty()) {
    v1::DayRange* range = r.add_publish();
    range->set_from(a.from);
    range->set_to(a.to.empty() ? a.from : a.to);
  } else {
    if (a.person.empty() || a.day.empty() || a.shift.empty()) {
      return Usage(err, "give --person, --day and --shift (or --file, or --from/--to to publish)");
    }
    if (a.unassign) {
      v1::Unassignment* u = r.add_unassign();
      u->set_person(a.person);
      u->set_day(a.day);
      u->set_shift(a.shift);
      u->set_reason(a.reason);
    } else {
      v1::Assignment* x = r.add_assign();
      x->set_person(a.person);
      x->set_day(a.day);
      x->set_shift(a.shift);
      x->set_station(a.station);
      x->set_override_reason(a.override_reason);
    }
  }
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::RosterResponse response;
  grpc::Status s = stub->AssignRoster(&ctx, r, &response);
  if (!s.ok()) return cli::Fail(err, "roster", s);
  if (a.json) {
    out << cli::ToJson(response) << "\n";
  } else {
    if (r.publish_size() > 0) out << "published " << r.publish(0).from() << " to " << r.publish(0).to() << "; ";
    out << (a.dry_run ? "would assign " : "assigned ") << response.assigned() << ", unassigned "
        << response.unassigned() << ", unchanged " << response.unchanged() << ", overrides "
        << response.overrides() << "\n";
    for (const auto& p : response.problems()) {
      out << "  refused [" << p.index() << "] " << p.reason() << "\n";
    }
  }
  return response.problems_size() > 0 ? 1 : 0;
}

int RunAttendance(const Args& a, std::ostream& out, std::ostream& err) {
  std::ifstream in(a.file);
  if (!in) return Usage(err, absl::StrCat("cannot read ", a.file));
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  auto stream = stub->StreamAttendance(&ctx);
  uint64_t accepted = 0, duplicates = 0, rejected = 0, batches = 0, line_no = 0;
  v1::AttendanceBatch batch;
  auto flush = [&]() -> bool {
    if (batch.records_size() == 0) return true;
    batch.set_facility(a.facility);
    batch.set_batch_id(++batches);
    if (!stream->Write(batch)) return false;
    v1::AttendanceAck ack;
    if (!stream->Read(&ack)) return false;
    accepted += ack.accepted();
    duplicates += ack.duplicates();
    rejected += ack.rejected_size() + ack.rejected_not_listed();
    for (const auto& r : ack.rejected()) {
      err << "takt: punch " << r.source_id() << "#" << r.source_sequence() << " rejected: " << r.reason()
          << " (code " << r.code() << ")\n";
    }
    batch.clear_records();
    return true;
  };
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto st = google::protobuf::util::JsonStringToMessage(line, batch.add_records());
    if (!st.ok()) {
      stream->WritesDone();
      (void)stream->Finish();
      return Usage(err, absl::StrCat(a.file, ":", line_no, ": ", std::string(st.message())));
    }
    if (batch.records_size() >= kBatch && !flush()) break;
  }
  flush();
  stream->WritesDone();
  grpc::Status s = stream->Finish();
  if (!s.ok()) return cli::Fail(err, absl::StrCat("attendance ", a.file), s);
  if (a.json) {
    out << absl::StrFormat("{\"accepted\":%d,\"duplicates\":%d,\"rejected\":%d}\n", accepted, duplicates,
                           rejected);
  } else {
    out << "accepted " << accepted << ", duplicates " << duplicates << ", rejected " << rejected << "\n";
  }
  return rejected > 0 ? 1 : 0;
}

int RunCoverage(const Args& a, std::ostream& out, std::ostream& err) {
  v1::CoverageRequest r;
  r.set_facility(a.facility);
  r.set_from(a.from);
  r.set_to(a.to.empty() ? a.from : a.to);
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::CoverageResponse response;
  grpc::Status s = stub->GetCoverage(&ctx, r, &response);
  if (!s.ok()) return cli::Fail(err, "coverage", s);
  if (a.json) {
    out << cli::ToJson(response) << "\n";
    return 0;
  }
  out << absl::StrFormat("%-10s %-8s %-14s %8s %8s %9s  %s\n", "day", "shift", "station", "required",
                         "assigned", "qualified", "needs");
  for (const auto& row : response.rows()) {
    if (a.gaps_only && row.qualified() >= row.required()) continue;
    out << absl::StrFormat("%-10s %-8s %-14s %8d %8d %9d  %s%s\n", row.day(), row.shift(), row.station(),
                           row.required(), row.assigned(), row.qualified(),
                           absl::StrJoin(row.qualifications(), ","),
                           row.qualified() < row.required() ? "  GAP" : "");
  }
  out << response.gaps() << " gap(s) in " << response.rows_size() << " station-shifts\n";
  return 0;
}

int RunCerts(const Args& a, std::ostream& out, std::ostream& err) {
  v1::ExpiringRequest r;
  r.set_scope(a.scope);
  r.set_as_of(a.as_of);
  r.set_within_days(a.within);
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::ExpiringResponse response;
  grpc::Status s = stub->ListExpiringCertificates(&ctx, r, &response);
  if (!s.ok()) return cli::Fail(err, "certificates", s);
  if (a.json) {
    out << cli::ToJson(response) << "\n";
    return 0;
  }
  for (const auto& c : response.certificates()) {
    out << absl::StrFormat("%-12s %-10s %-14s %-12s expires %s (%d days)\n", c.facility(), c.person(),
                           c.qualification(), c.certificate(), c.expires(), c.days_left());
  }
  out << "valid " << response.valid() << ", expiring within 30/60/90 days " << response.within_30() << "/"
      << response.within_60() << "/" << response.within_90() << ", expired " << response.expired() << "\n";
  return 0;
}

int RunPerson(const Args& a, std::ostream& out, std::ostream& err) {
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::PersonRequest r;
  r.set_facility(a.facility);
  r.set_person(a.person);
  r.set_purpose(a.purpose);
  v1::PersonView v;
  grpc::Status s = stub->GetPerson(&ctx, r, &v);
  if (!s.ok()) return cli::Fail(err, "person", s);
  out << cli::ToJson(v) << "\n";
  return 0;
}

int RunExport(const Args& a, std::ostream& out, std::ostream& err) {
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::ExportRequest r;
  r.set_facility(a.facility);
  r.set_purpose(a.purpose);
  v1::ExportResponse response;
  grpc::Status s = stub->ExportPeople(&ctx, r, &response);
  if (!s.ok()) return cli::Fail(err, "export", s);
  for (const auto& p : response.people()) out << cli::ToJson(p) << "\n";
  return 0;
}

int RunErase(const Args& a, std::ostream& out, std::ostream& err) {
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::EraseRequest r;
  r.set_facility(a.facility);
  r.set_person(a.person);
  r.set_reason(a.reason);
  r.set_request_id(a.request_id);
  v1::EraseResponse response;
  grpc::Status s = stub->ErasePerson(&ctx, r, &response);
  if (!s.ok()) return cli::Fail(err, "erase", s);
  out << "erased " << response.person() << ": " << response.sealed_fields()
      << " sealed value(s) are unreadable from now on; the log still verifies\n";
  return 0;
}

}  // namespace

absl::StatusOr<v1::ApplyStaffRequest> StaffFromYaml(const std::string& text) {
  v1::ApplyStaffRequest request;
  TAKT_RETURN_IF_ERROR(cli::MessageFromYaml(text, "commands", &request));
  return request;
}

void AddStaffingCommands(CLI::App& app, int* exit_code) {
  // takt simulate's staffing part (the same plants and days).
  cli::AddContextSimulateStep<StaffingSimArgs>(
      kService, "Staffing and safety (the same plants: people, rosters, attendance, incidents):", RunStaffingSimulate);
  auto a = std::make_shared<Args>();
  CLI::App* s = app.add_subcommand(
      "staffing", "People, qualifications, rosters, attendance, safety incidents and erasure");
  s->require_subcommand(1);
  auto common = [=](CLI::App* cmd) {
    cmd->add_option("--target", a->target, kTargetHelp)->capture_default_str();
    cmd->add_flag("--json", a->json, "JSON output");
  };
  auto facility = [=](CLI::App* cmd) { cmd->add_option("--facility", a->facility, "Facility id")->required(); };

  CLI::App* apply = s->add_subcommand(
      "apply", "Record people, qualifications, certificates, requirements, absences, evaluations and "
               "incidents from a YAML file");
  common(apply);
  apply->add_option("--file", a->file, "staff .yaml (facility:, commands: [...])")->required();
  apply->add_option("--facility", a->facility, "Facility id (overrides the file's)");
  apply->add_flag("--dry-run", a->dry_run, "Check and count; record nothing");
  apply->add_option("--request-id", a->request_id, "Idempotency key (a resend changes nothing)");
  apply->callback([=] { *exit_code = RunApply(*a, std::cout, std::cerr); });

  CLI::App* assign = s->add_subcommand(
      "assign", "Assign a person to a shift (and station), unassign, publish days, or assign from a "
                "JSON Lines file; unqualified assignments are refused naming the missing certificates");
  common(assign);
  facility(assign);
  assign->add_option("--person", a->person, "Person id");
  assign->add_option("--day", a->day, "Production day YYYY-MM-DD");
  assign->add_option("--shift", a->shift, "Shift name of the facility's calendar");
  assign->add_option("--station", a->station, "Work unit or work center");
  assign->add_option("--override", a->override_reason, "Supervisor override: why, despite missing qualifications");
  assign->add_flag("--unassign", a->unassign, "Remove the person's assignment of that day and shift");
  assign->add_option("--reason", a->reason, "Why (an unassignment)");
  assign->add_option("--file", a->file, "assignments .jsonl (one Assignment per line)");
  assign->add_option("--from", a->from, "Publish: record every station's requirement from this day");
  assign->add_option("--to", a->to, "Publish: to this day (inclusive)");
  assign->add_flag("--dry-run", a->dry_run, "Validate and list every problem; record nothing");
  assign->add_option("--request-id", a->request_id, "Idempotency key");
  assign->callback([=] { *exit_code = RunAssign(*a, std::cout, std::cerr); });

  CLI::App* attendance = s->add_subcommand(
      "attendance", "Stream clock-ins and clock-outs from a JSON Lines file (one AttendanceRecord per line)");
  common(attendance);
  facility(attendance);
  attendance->add_option("--file", a->file, "punches .jsonl")->required();
  attendance->callback([=] { *exit_code = RunAttendance(*a, std::cout, std::cerr); });

  CLI::App* coverage = s->add_subcommand("coverage", "Qualified people per station and shift against the requirement");
  common(coverage);
  facility(coverage);
  coverage->add_option("--from", a->from, "First production day YYYY-MM-DD")->required();
  coverage->add_option("--to", a->to, "Last production day (default: --from)");
  coverage->add_flag("--gaps", a->gaps_only, "Only station-shifts short of qualified people");
  coverage->callback([=] { *exit_code = RunCoverage(*a, std::cout, std::cerr); });

  CLI::App* certs = s->add_subcommand("certs", "Certificates expiring soon, and counts within 30/60/90 days");
  common(certs);
  certs->add_option("--scope", a->scope, "enterprise, a region or a facility")->capture_default_str();
  certs->add_option("--within", a->within, "Days ahead")->capture_default_str();
  certs->add_option("--as-of", a->as_of, "Day YYYY-MM-DD (default: today, UTC)");
  certs->callback([=] { *exit_code = RunCerts(*a, std::cout, std::cerr); });

  CLI::App* person = s->add_subcommand("person", "A person's record, personal data unsealed (or [erased])");
  common(person);
  facility(person);
  person->add_option("--person", a->person, "Person id")->required();
  person->add_option("--purpose", a->purpose, "Why you read it (recorded with the read)");
  person->callback([=] { *exit_code = RunPerson(*a, std::cout, std::cerr); });

  CLI::App* exp = s->add_subcommand("export", "Every person of a facility as JSON Lines (erased data shows [erased])");
  common(exp);
  facility(exp);
  exp->add_option("--purpose", a->purpose, "Why you read it (recorded with the read)");
  exp->callback([=] { *exit_code = RunExport(*a, std::cout, std::cerr); });

  auto sim = std::make_shared<StaffingSimArgs>();
  CLI::App* simulate = s->add_subcommand(
      "simulate", "The demo plants' people, rosters, attendance and incidents (after takt simulate with the "
                  "same options), then a summary");
  simulate->add_option("--target", sim->target, kTargetHelp)->capture_default_str();
  simulate->add_option("--facilities", sim->options.facilities, "Plants")->check(CLI::Range(1, 200))->capture_default_str();
  simulate->add_option("--days", sim->options.days, "Production days")->check(CLI::Range(2, 366))->capture_default_str();
  simulate->add_option("--seed", sim->options.seed, "Random seed")->capture_default_str();
  simulate->add_option("--start", sim->start, "First production day YYYY-MM-DD (default: days before yesterday)");
  simulate->callback([=] { *exit_code = RunStaffingSimulate(*sim, std::cout, std::cerr); });

  CLI::App* erase = s->add_subcommand(
      "erase", "Erase a person's personal data (GDPR Art. 17): destroys their key, records the erasure");
  common(erase);
  facility(erase);
  erase->add_option("--person", a->person, "Person id")->required();
  erase->add_option("--reason", a->reason, "Why (recorded)")->required();
  erase->add_option("--request-id", a->request_id, "Idempotency key");
  erase->callback([=] { *exit_code = RunErase(*a, std::cout, std::cerr); });
}

}  // namespace takt::staffing
