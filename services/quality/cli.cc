#include "services/quality/cli.h"

#include <grpcpp/grpcpp.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "libs/cli/grpc_client.h"
#include "libs/cli/simulate_steps.h"
#include "libs/common/proto_time.h"
#include "services/quality/plans_yaml.h"
#include "services/quality/simulate.h"
#include "services/quality/spc.h"
#include "takt/quality/v1/quality_service.grpc.pb.h"
#include "libs/common/default_address.h"

namespace takt::quality {
namespace {

constexpr char kService[] = "quality";
constexpr char kTargetHelp[] =
    "Server address host:port, or one per service: quality=A,rollups=B,...";
constexpr int kBatch = 1000;

struct Args {
  std::string target = kDefaultAddress;
  std::string product;
  std::string file, facility, characteristic, from, to, reason, scope = "enterprise";
  bool json = false, dry_run = false, open_only = false;
  // NCR
  std::string id, description, lot, defect, disposition, contain, root_cause, action, kind,
      owner, due, complete, check, note, request_id;
  int64_t quantity = 0;
};

std::unique_ptr<v1::QualityService::Stub> Stub(const Args& a, std::ostream& err) {
  auto channel = cli::Connect(a.target, kService, err);
  return channel ? v1::QualityService::NewStub(channel) : nullptr;
}

int Usage(std::ostream& err, const std::string& what) {
  err << "takt: " << what << "\n";
  return 2;
}

// RFC 3339 or YYYY-MM-DD (UTC midnight).
bool ParseWhen(const std::string& s, absl::Time* t) {
  std::string e;
  return absl::ParseTime(absl::RFC3339_full, s, t, &e) || absl::ParseTime("%Y-%m-%d", s, t, &e);
}

int RunApply(const Args& a, std::ostream& out, std::ostream& err) {
  std::ifstream in(a.file);
  if (!in) return Usage(err, absl::StrCat("cannot read ", a.file));
  std::stringstream text;
  text << in.rdbuf();
  auto request = PlansFromYaml(text.str());
  if (!request.ok()) return Usage(err, absl::StrCat(a.file, ": ", request.status().message()));
  request->set_validate_only(a.dry_run);
  if (request->request_id().empty()) request->set_request_id(a.request_id);
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::ApplyPlansResponse response;
  grpc::Status s = stub->ApplyPlans(&ctx, *request, &response);
  if (!s.ok()) return cli::Fail(err, absl::StrCat("apply ", a.file), s);
  out << (a.dry_run ? "would change " : "changed ") << response.changed() << ", unchanged "
      << response.unchanged() << "\n";
  return 0;
}

int RunIngest(const Args& a, std::ostream& out, std::ostream& err) {
  std::ifstream in(a.file);
  if (!in) return Usage(err, absl::StrCat("cannot read ", a.file));
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  auto stream = stub->StreamSamples(&ctx);
  uint64_t accepted = 0, duplicates = 0, rejected = 0, violations = 0, batches = 0, line_no = 0;
  v1::SampleBatch batch;
  std::string line;
  auto flush = [&]() -> bool {
    if (batch.samples_size() == 0) return true;
    batch.set_facility(a.facility);
    batch.set_batch_id(++batches);
    if (!stream->Write(batch)) return false;
    v1::SampleAck ack;
    if (!stream->Read(&ack)) return false;
    accepted += ack.accepted();
    duplicates += ack.duplicates();
    rejected += ack.rejected_size() + ack.rejected_not_listed();
    violations += ack.violations();
    for (const auto& r : ack.rejected()) {
      err << "takt: sample " << r.source_id() << "#" << r.source_sequence() << " rejected: "
          << r.reason() << " (code " << r.code() << ")\n";
    }
    batch.clear_samples();
    return true;
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto st = google::protobuf::util::JsonStringToMessage(line, batch.add_samples());
    if (!st.ok()) {
      stream->WritesDone();
      (void)stream->Finish();
      return Usage(err, absl::StrCat(a.file, ":", line_no, ": ", std::string(st.message())));
    }
    if (batch.samples_size() >= kBatch && !flush()) break;
  }
  flush();
  stream->WritesDone();
  grpc::Status s = stream->Finish();
  if (!s.ok()) return cli::Fail(err, absl::StrCat("ingest ", a.file), s);
  if (a.json) {
    out << absl::StrFormat(
        "{\"accepted\":%d,\"duplicates\":%d,\"rejected\":%d,\"violations\":%d}\n", accepted,
        duplicates, rejected, violations);
  } else {
    out << "accepted " << accepted << ", duplicates " << duplicates << ", rejected " << rejected
        << ", rule violations " << violations << "\n";
  }
  return rejected > 0 ? 1 : 0;
}

int RunLimits(const Args& a, std::ostream& out, std::ostream& err) {
  v1::ApproveLimitsRequest r;
  absl::Time from, to;
  if (!ParseWhen(a.from, &from) || !ParseWhen(a.to, &to)) {
    return Usage(err, "--from and --to take YYYY-MM-DD or RFC 3339 times");
  }
  r.set_facility(a.facility);
  r.set_characteristic(a.characteristic);
  *r.mutable_baseline_from() = ToProto(from);
  *r.mutable_baseline_to() = ToProto(to);
  r.set_reason(a.reason);
  r.set_request_id(a.request_id);
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::LimitsApproved l;
  grpc::Status s = stub->ApproveLimits(&ctx, r, &l);
  if (!s.ok()) return cli::Fail(err, "approve limits", s);
  if (a.json) {
    out << cli::ToJson(l) << "\n";
  } else {
    out << absl::StrFormat(
        "%s revision %d (%s, %d subgroups): centre %.6g, limits [%.6g, %.6g]; dispersion centre "
        "%.6g, limits [%.6g, %.6g]; sigma %.6g\n",
        l.characteristic(), l.revision(), ChartName(l.chart()), l.baseline_subgroups(), l.center(),
        l.lower(), l.upper(), l.dispersion_center(), l.dispersion_lower(), l.dispersion_upper(),
        l.sigma_within());
  }
  return 0;
}

int RunChart(const Args& a, std::ostream& out, std::ostream& err) {
  v1::ChartRequest r;
  r.set_facility(a.facility);
  r.set_characteristic(a.characteristic);
  absl::Time t;
  if (!a.from.empty()) {
    if (!ParseWhen(a.from, &t)) return Usage(err, "--from takes YYYY-MM-DD or an RFC 3339 time");
    *r.mutable_from() = ToProto(t);
  }
  if (!a.to.empty()) {
    if (!ParseWhen(a.to, &t)) return Usage(err, "--to takes YYYY-MM-DD or an RFC 3339 time");
    *r.mutable_to() = ToProto(t);
  }
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::ChartResponse c;
  grpc::Status s = stub->GetChart(&ctx, r, &c);
  if (!s.ok()) return cli::Fail(err, "chart", s);
  if (a.json) {
    out << cli::ToJson(c) << "\n";
    return 0;
  }
  out << absl::StrFormat("%s (%s) in %s: %d points, %d rule violations\n", c.characteristic().id(),
                         ChartName(c.chart()), a.facility, c.points_size(), c.violations_size());
  if (c.limits().revision() > 0) {
    out << absl::StrFormat("limits revision %d: centre %.6g, [%.6g, %.6g]\n", c.limits().revision(),
                           c.limits().center(), c.limits().lower(), c.limits().upper());
  } else {
    out << "no approved limits yet (takt quality limits ...)\n";
  }
  for (const auto& p : c.points()) {
    std::vector<std::string> rules;
    for (uint32_t rule : p.rules()) rules.push_back(absl::StrCat(rule));
    out << absl::StrFormat("%s  %12.6g  %12.6g  %s\n",
                           absl::FormatTime("%Y-%m-%d %H:%M", ToTime(p.time()), absl::UTCTimeZone()),
                           p.value(), p.dispersion(),
                           rules.empty() ? "" : absl::StrCat("rules ", absl::StrJoin(rules, ",")));
  }
  return 0;
}

int RunCapability(const Args& a, std::ostream& out, std::ostream& err) {
  v1::CapabilityRequest r;
  r.set_characteristic(a.characteristic);
  r.set_scope(a.scope);
  r.set_from(a.from);
  r.set_to(a.to);
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::Capability c;
  grpc::Status s = stub->GetCapability(&ctx, r, &c);
  if (!s.ok()) return cli::Fail(err, "capability", s);
  if (a.json) {
    out << cli::ToJson(c) << "\n";
  } else {
    out << absl::StrFormat(
        "%s in %s, %s..%s: n %d in %d subgroups (%s)\n  mean %.6g, sigma within %.6g (%s), "
        "overall %.6g\n  Cp %.3f  Cpk %.3f  Pp %.3f  Ppk %.3f\n",
        a.characteristic, a.scope, a.from, a.to, c.n(), c.subgroups(),
        absl::StrJoin(c.facilities(), ", "), c.mean(), c.sigma_within(), c.estimator(),
        c.sigma_overall(), c.cp(), c.cpk(), c.pp(), c.ppk());
  }
  return 0;
}

int RunRty(const Args& a, std::ostream& out, std::ostream& err) {
  v1::RtyRequest r;
  r.set_product(a.product);
  r.set_scope(a.scope);
  r.set_from(a.from);
  r.set_to(a.to);
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::RtyResponse rty;
  grpc::Status s = stub->GetRolledThroughputYield(&ctx, r, &rty);
  if (!s.ok()) return cli::Fail(err, "rty", s);
  if (a.json) {
    out << cli::ToJson(rty) << "\n";
    return 0;
  }
  out << absl::StrFormat("%s in %s, %s..%s: rolled throughput yield %.2f%% over %d steps (%s)\n",
                         a.product, a.scope, a.from, a.to, 100 * rty.rolled_throughput_yield(),
                         rty.steps_size(), absl::StrJoin(rty.facilities(), ", "));
  for (const auto& step : rty.steps()) {
    out << absl::StrFormat("  %-16s %-14s %-14s FPY %6.2f%%  (%d of %d first time)\n",
                           step.characteristic(), step.plan_id(), step.work_unit(),
                           100 * step.first_pass_yield(), step.first_passed(), step.first_inspected());
  }
  return 0;
}

int RunNcr(const std::string& step, const Args& a, std::ostream& out, std::ostream& err) {
  v1::NcrRequest r;
  r.set_facility(a.facility);
  r.set_request_id(a.request_id);
  v1::NcrCommand& c = *r.mutable_command();
  if (step == "open") {
    auto* x = c.mutable_raise();
    x->set_ncr_id(a.id);
    x->set_characteristic(a.characteristic);
    x->set_lot(a.lot);
    x->set_quantity(a.quantity);
    x->set_defect_code(a.defect);
    x->set_description(a.description);
  } else if (step == "close") {
    c.mutable_close()->set_ncr_id(a.id);
    c.mutable_close()->set_reason(a.reason);
  } else if (step == "reopen") {
    c.mutable_reopen()->set_ncr_id(a.id);
    c.mutable_reopen()->set_reason(a.reason);
  } else {  // act: exactly one step
    const int given = !a.disposition.empty() + !a.contain.empty() + !a.root_cause.empty() +
                      !a.action.empty() + !a.complete.empty() + !a.check.empty();
    if (given != 1) {
      return Usage(err, "ncr act takes exactly one of --disposition, --contain, --root-cause, "
                        "--add-action, --complete-action, --check");
    }
    if (!a.disposition.empty()) {
      v1::Disposition d;
      if (!v1::Disposition_Parse(a.disposition, &d)) {
        return Usage(err, "--disposition is SCRAP, REWORK, USE_AS_IS or RETURN_TO_SUPPLIER");
      }
      c.mutable_disposition()->set_ncr_id(a.id);
      c.mutable_disposition()->set_disposition(d);
      c.mutable_disposition()->set_reason(a.reason);
    } else if (!a.contain.empty()) {
      c.mutable_contain()->set_ncr_id(a.id);
      c.mutable_contain()->set_note(a.contain);
    } else if (!a.root_cause.empty()) {
      c.mutable_root_cause()->set_ncr_id(a.id);
      c.mutable_root_cause()->set_cause(a.root_cause);
    } else if (!a.action.empty()) {
      v1::ActionKind k;
      if (!v1::ActionKind_Parse(a.kind, &k)) return Usage(err, "--kind is CORRECTIVE or PREVENTIVE");
      auto* x = c.mutable_add_action();
      x->set_ncr_id(a.id);
      x->set_action_id(a.action);
      x->set_kind(k);
      x->set_owner(a.owner);
      x->set_due(a.due);
      x->set_description(a.description);
    } else if (!a.complete.empty()) {
      c.mutable_complete_action()->set_ncr_id(a.id);
      c.mutable_complete_action()->set_action_id(a.complete);
      c.mutable_complete_action()->set_note(a.note);
    } else {
      if (a.check != "effective" && a.check != "ineffective") {
        return Usage(err, "--check is effective or ineffective");
      }
      c.mutable_check()->set_ncr_id(a.id);
      c.mutable_check()->set_effective(a.check == "effective");
      c.mutable_check()->set_note(a.note);
    }
  }
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::NcrResponse response;
  grpc::Status s = stub->ExecuteNcr(&ctx, r, &response);
  if (!s.ok()) return cli::Fail(err, absl::StrCat("ncr ", step), s);
  if (a.json) {
    out << cli::ToJson(response.ncr()) << "\n";
  } else {
    out << response.ncr().ncr_id() << ": " << response.ncr().status() << ", "
        << response.ncr().actions_open() << " of " << response.ncr().actions()
        << " actions open\n";
  }
  return 0;
}

int RunNcrList(const Args& a, std::ostream& out, std::ostream& err) {
  v1::ListNcrsRequest r;
  r.set_facility(a.facility);
  r.set_open_only(a.open_only);
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::ListNcrsResponse response;
  grpc::Status s = stub->ListNcrs(&ctx, r, &response);
  if (!s.ok()) return cli::Fail(err, "ncr list", s);
  if (a.json) {
    out << cli::ToJson(response) << "\n";
    return 0;
  }
  const absl::Time now = absl::Now();
  for (const v1::NcrView& n : response.ncrs()) {
    const absl::Time raised = ToTime(n.raised());
    out << absl::StrFormat("%-12s %-6s %5.1f d  %-16s %-14s %s\n", n.ncr_id(), n.status(),
                           absl::ToDoubleHours((n.status() == "closed" ? ToTime(n.closed()) : now) - raised) / 24,
                           n.origin(), n.characteristic(), n.description());
  }
  out << response.ncrs_size() << " NCRs\n";
  return 0;
}

}  // namespace

void AddQualityCommands(CLI::App& app, int* exit_code) {
  // takt simulate's quality part (the same plants and days).
  cli::AddContextSimulateStep<QualitySimArgs>(
      kService, "Quality (the same plants: measurements, inspections, SPC signals, NCRs):", RunQualitySimulate);
  auto a = std::make_shared<Args>();
  CLI::App* q = app.add_subcommand("quality", "Inspection plans, SPC, capability, NCR and CAPA");
  q->require_subcommand(1);
  auto common = [=](CLI::App* cmd) {
    cmd->add_option("--target", a->target, kTargetHelp)->capture_default_str();
    cmd->add_flag("--json", a->json, "JSON output");
  };
  auto facility = [=](CLI::App* cmd) { cmd->add_option("--facility", a->facility, "Facility id")->required(); };

  CLI::App* apply = q->add_subcommand("apply", "Apply inspection plans and defect codes from a YAML file");
  common(apply);
  apply->add_option("--file", a->file, "plans .yaml")->required();
  apply->add_flag("--dry-run", a->dry_run, "Check and count; record nothing");
  apply->add_option("--request-id", a->request_id, "Idempotency key (a resend changes nothing)");
  apply->callback([=] { *exit_code = RunApply(*a, std::cout, std::cerr); });

  CLI::App* ingest = q->add_subcommand("ingest", "Stream samples from a JSON Lines file (one Sample per line)");
  common(ingest);
  facility(ingest);
  ingest->add_option("--file", a->file, "samples .jsonl")->required();
  ingest->callback([=] { *exit_code = RunIngest(*a, std::cout, std::cerr); });

  CLI::App* limits = q->add_subcommand("limits", "Compute control limits from a baseline window and approve them");
  common(limits);
  facility(limits);
  limits->add_option("--characteristic", a->characteristic, "Characteristic id")->required();
  limits->add_option("--from", a->from, "Baseline start (YYYY-MM-DD or RFC 3339)")->required();
  limits->add_option("--to", a->to, "Baseline end, exclusive")->required();
  limits->add_option("--reason", a->reason, "Why (recorded)")->required();
  limits->add_option("--request-id", a->request_id, "Idempotency key");
  limits->callback([=] { *exit_code = RunLimits(*a, std::cout, std::cerr); });

  CLI::App* chart = q->add_subcommand("chart", "A characteristic's control chart: points, limits, violations");
  common(chart);
  facility(chart);
  chart->add_option("--characteristic", a->characteristic, "Characteristic id")->required();
  chart->add_option("--from", a->from, "Start (YYYY-MM-DD or RFC 3339)");
  chart->add_option("--to", a->to, "End, exclusive");
  chart->callback([=] { *exit_code = RunChart(*a, std::cout, std::cerr); });

  CLI::App* cap = q->add_subcommand("capability", "Cp, Cpk, Pp, Ppk of a characteristic over pooled data");
  common(cap);
  cap->add_option("--characteristic", a->characteristic, "Characteristic id")->required();
  cap->add_option("--scope", a->scope, "enterprise, regions/R or facilities/F")->capture_default_str();
  cap->add_option("--from", a->from, "First production day YYYY-MM-DD")->required();
  cap->add_option("--to", a->to, "Last production day YYYY-MM-DD")->required();
  cap->callback([=] { *exit_code = RunCapability(*a, std::cout, std::cerr); });

  auto sim = std::make_shared<QualitySimArgs>();
  CLI::App* simulate = q->add_subcommand(
      "simulate", "The demo plants' quality data (after takt simulate with the same options), then a summary");
  simulate->add_option("--target", sim->target, kTargetHelp)->capture_default_str();
  simulate->add_option("--facilities", sim->options.facilities, "Plants")
      ->check(CLI::Range(1, 200))->capture_default_str();
  simulate->add_option("--days", sim->options.days, "Production days")
      ->check(CLI::Range(2, 366))->capture_default_str();
  simulate->add_option("--seed", sim->options.seed, "Random seed")->capture_default_str();
  simulate->add_option("--start", sim->start, "First production day YYYY-MM-DD (default: days before yesterday)");
  simulate->callback([=] { *exit_code = RunQualitySimulate(*sim, std::cout, std::cerr); });

  CLI::App* rty = q->add_subcommand("rty", "Rolled throughput yield of a product over its inspection steps");
  common(rty);
  rty->add_option("--product", a->product, "Product id")->required();
  rty->add_option("--scope", a->scope, "enterprise, regions/R or facilities/F")->capture_default_str();
  rty->add_option("--from", a->from, "First production day YYYY-MM-DD")->required();
  rty->add_option("--to", a->to, "Last production day YYYY-MM-DD")->required();
  rty->callback([=] { *exit_code = RunRty(*a, std::cout, std::cerr); });

  CLI::App* ncr = q->add_subcommand("ncr", "Nonconformance reports and corrective actions");
  ncr->require_subcommand(1);
  CLI::App* open = ncr->add_subcommand("open", "Raise an NCR");
  common(open);
  facility(open);
  open->add_option("--id", a->id, "NCR id (default: assigned)");
  open->add_option("--description", a->description, "What is wrong")->required();
  open->add_option("--characteristic", a->characteristic, "Characteristic id");
  open->add_option("--lot", a->lot, "Lot");
  open->add_option("--quantity", a->quantity, "Units affected");
  open->add_option("--defect", a->defect, "Defect code");
  open->add_option("--request-id", a->request_id, "Idempotency key");
  open->callback([=] { *exit_code = RunNcr("open", *a, std::cout, std::cerr); });

  CLI::App* act = ncr->add_subcommand("act", "One step of an NCR: disposition, containment, root cause, actions, check");
  common(act);
  facility(act);
  act->add_option("--id", a->id, "NCR id")->required();
  act->add_option("--disposition", a->disposition, "SCRAP, REWORK, USE_AS_IS or RETURN_TO_SUPPLIER (with --reason)");
  act->add_option("--reason", a->reason, "Why");
  act->add_option("--contain", a->contain, "Containment note");
  act->add_option("--root-cause", a->root_cause, "Root cause");
  act->add_option("--add-action", a->action, "New action id (with --kind, --owner, --due, --description)");
  act->add_option("--kind", a->kind, "CORRECTIVE or PREVENTIVE");
  act->add_option("--owner", a->owner, "Who owns the action");
  act->add_option("--due", a->due, "Due day YYYY-MM-DD");
  act->add_option("--description", a->description, "What the action does");
  act->add_option("--complete-action", a->complete, "Action id done");
  act->add_option("--check", a->check, "effective or ineffective (with --note)");
  act->add_option("--note", a->note, "Note");
  act->add_option("--request-id", a->request_id, "Idempotency key");
  act->callback([=] { *exit_code = RunNcr("act", *a, std::cout, std::cerr); });

  for (const char* step : {"close", "reopen"}) {
    CLI::App* cmd = ncr->add_subcommand(step, std::string(step) == "close"
                                                  ? "Close an NCR (needs an effective check)"
                                                  : "Reopen a closed NCR");
    common(cmd);
    facility(cmd);
    cmd->add_option("--id", a->id, "NCR id")->required();
    cmd->add_option("--reason", a->reason, "Why")->required();
    cmd->add_option("--request-id", a->request_id, "Idempotency key");
    const std::string s = step;
    cmd->callback([=] { *exit_code = RunNcr(s, *a, std::cout, std::cerr); });
  }

  CLI::App* list = ncr->add_subcommand("list", "NCRs of a facility with their age");
  common(list);
  facility(list);
  list->add_flag("--open", a->open_only, "Open ones only");
  list->callback([=] { *exit_code = RunNcrList(*a, std::cout, std::cerr); });
}

}  // namespace takt::quality
