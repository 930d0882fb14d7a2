#include "services/budgets/cli.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "libs/cli/grpc_client.h"
#include "libs/cli/simulate_steps.h"
#include "libs/cli/yaml_json.h"
#include "libs/common/default_address.h"
#include "libs/common/status_macros.h"
#include "services/budgets/money.h"
#include "services/budgets/simulate.h"
#include "services/budgets/variance.h"
#include "takt/budgets/v1/budgets_service.grpc.pb.h"

namespace takt::budgets {
namespace {

constexpr char kService[] = "budgets";
constexpr char kTargetHelp[] = "Server address host:port, or one per service: budgets=A,...";
constexpr int kBatch = 1000;

struct Args {
  std::string target = kDefaultAddress;
  std::string file, facility, region, request_id, from, to;
  bool json = false, dry_run = false, by_month = false;
};

std::unique_ptr<v1::BudgetsService::Stub> Stub(const Args& a, std::ostream& err) {
  auto channel = cli::Connect(a.target, kService, err);
  return channel ? v1::BudgetsService::NewStub(channel) : nullptr;
}

int Usage(std::ostream& err, const std::string& what) {
  err << "takt: budgets: " << what << "\n";
  return 2;
}

int RunApply(const Args& a, std::ostream& out, std::ostream& err) {
  std::ifstream in(a.file);
  if (!in) return Usage(err, absl::StrCat("cannot read ", a.file));
  std::stringstream text;
  text << in.rdbuf();
  auto request = BudgetFromYaml(text.str());
  if (!request.ok()) return Usage(err, absl::StrCat(a.file, ": ", request.status().message()));
  if (!a.facility.empty()) request->set_facility(a.facility);
  request->set_validate_only(a.dry_run);
  if (request->request_id().empty()) request->set_request_id(a.request_id);
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::ApplyBudgetResponse response;
  grpc::Status s = stub->ApplyBudget(&ctx, *request, &response);
  if (!s.ok()) return cli::Fail(err, absl::StrCat("budgets apply ", a.file), s);
  out << (a.dry_run ? "would change " : "changed ") << response.changed() << ", unchanged " << response.unchanged()
      << "\n";
  return 0;
}

int RunIngest(const Args& a, std::ostream& out, std::ostream& err) {
  std::ifstream in(a.file);
  if (!in) return Usage(err, absl::StrCat("cannot read ", a.file));
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  auto stream = stub->StreamPostings(&ctx);
  uint64_t accepted = 0, duplicates = 0, rejected = 0, batches = 0, line_no = 0;
  v1::PostingBatch batch;
  auto flush = [&]() -> bool {
    if (batch.postings_size() == 0) return true;
    batch.set_facility(a.facility);
    batch.set_batch_id(++batches);
    if (!stream->Write(batch)) return false;
    v1::PostingAck ack;
    if (!stream->Read(&ack)) return false;
    accepted += ack.accepted();
    duplicates += ack.duplicates();
    rejected += ack.rejected_size() + ack.rejected_not_listed();
    for (const auto& r : ack.rejected()) {
      err << "takt: posting " << r.document() << " rejected: " << r.reason() << " (code " << r.code() << ")\n";
    }
    batch.clear_postings();
    return true;
  };
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto st = google::protobuf::util::JsonStringToMessage(line, batch.add_postings());
    if (!st.ok()) {
      stream->WritesDone();
      (void)stream->Finish();
      return Usage(err, absl::StrCat(a.file, ":", line_no, ": ", std::string(st.message())));
    }
    if (batch.postings_size() >= kBatch && !flush()) break;
  }
  flush();
  stream->WritesDone();
  grpc::Status s = stream->Finish();
  if (!s.ok()) return cli::Fail(err, absl::StrCat("budgets ingest ", a.file), s);
  if (a.json) {
    out << absl::StrFormat("{\"accepted\":%d,\"duplicates\":%d,\"rejected\":%d}\n", accepted, duplicates, rejected);
  } else {
    out << "accepted " << accepted << ", duplicates " << duplicates << ", rejected " << rejected << "\n";
  }
  return rejected > 0 ? 1 : 0;
}

// "-1234.50 F" style: the amount and its direction for a cost variance.
std::string Signed(int64_t minor, int exponent) {
  const char* d = Direction(minor);
  return absl::StrCat(FormatAmount(minor < 0 ? -minor : minor, exponent), *d ? " " : "", d);
}

void PrintReport(const v1::VarianceReport& r, int exponent, std::ostream& out) {
  out << absl::StrFormat("  %-18s %14s %14s %14s %16s %16s %16s\n", "account", "actual", "flexible", "static",
                         "price/rate/spend", "usage/eff/volume", "vs static");
  for (const auto& l : r.lines()) {
    out << absl::StrFormat("  %-18s %14s %14s %14s %16s %16s %16s\n", l.account(), FormatAmount(l.actual(), exponent),
                           FormatAmount(l.flexible_budget(), exponent), FormatAmount(l.static_budget(), exponent),
                           Signed(l.price_variance(), exponent), Signed(l.quantity_variance(), exponent),
                           Signed(l.static_variance(), exponent));
  }
  out << absl::StrFormat("  %-18s %14s %14s %14s\n", "total", FormatAmount(r.actual(), exponent),
                         FormatAmount(r.flexible_budget(), exponent), FormatAmount(r.static_budget(), exponent));
  out << absl::StrFormat("  good units %d of %d planned; cost per good unit %s; cost of poor quality %s\n",
                         r.actual_output(), r.planned_output(), FormatAmount(r.cost_per_good_unit(), exponent),
                         FormatAmount(r.cost_of_poor_quality(), exponent));
}

// The variance request of the flags (--to defaults to --from).
v1::VarianceRequest VarianceRequestOf(const Args& a) {
  v1::VarianceRequest r;
  r.set_facility(a.facility);
  r.set_region(a.region);
  r.set_from_month(a.from);
  r.set_to_month(a.to.empty() ? a.from : a.to);
  r.set_by_month(a.by_month);
  return r;
}

int RunVariances(const Args& a, std::ostream& out, std::ostream& err) {
  if (!a.facility.empty() && !a.region.empty()) {
    return Usage(err, "variances: give --facility or --region (neither: the enterprise), not both");
  }
  const v1::VarianceRequest r = VarianceRequestOf(a);
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::VarianceResponse response;
  grpc::Status s = stub->GetVariances(&ctx, r, &response);
  if (!s.ok()) return cli::Fail(err, "budgets variances", s);
  if (a.json) {
    out << cli::ToJson(response) << "\n";
    return 0;
  }
  const int exponent = MinorExponent(response.currency()).value_or(2);
  out << absl::StrFormat("%s %s to %s, %s (approved version %s; variances are actual minus standard or budget: "
                         "U unfavourable, F favourable)\n",
                         !response.facility().empty() ? response.facility()
                         : response.region().empty()  ? std::string("enterprise")
                                                      : "region " + response.region(),
                         r.from_month(), r.to_month(), response.currency(),
                         response.approved_version().empty() ? "none" : response.approved_version());
  if (response.without_ledger_size() > 0) {
    out << "  not in the figures (no ledger yet): ";
    for (int i = 0; i < response.without_ledger_size(); ++i) out << (i ? ", " : "") << response.without_ledger(i);
    out << "\n";
  }
  for (const auto& m : response.months()) {
    out << m.month() << ":\n";
    PrintReport(m, exponent, out);
  }
  out << "whole period:\n";
  PrintReport(response.total(), exponent, out);
  if (response.cost_centres_size() > 0) {
    out << "by cost centre (actual against the approved budget):\n";
    out << absl::StrFormat("  %-14s %-18s %14s %14s %16s\n", "cost centre", "account", "actual", "budget", "variance");
    for (const auto& l : response.cost_centres()) {
      out << absl::StrFormat("  %-14s %-18s %14s %14s %16s\n", l.cost_centre(), l.account(),
                             FormatAmount(l.actual(), exponent), FormatAmount(l.static_budget(), exponent),
                             Signed(l.static_variance(), exponent));
    }
  }
  if (response.reporting_currency() != response.currency()) {
    const int rexp = MinorExponent(response.reporting_currency()).value_or(2);
    out << absl::StrFormat("  in %s at the budget rates: actual %s, static budget %s\n", response.reporting_currency(),
                           FormatAmount(response.total().actual_reporting(), rexp),
                           FormatAmount(response.total().static_budget_reporting(), rexp));
    const v1::VarianceReport& t = response.total();
    if (t.fx_months_without_actual_rate() == 0 || t.fx_effect() != 0) {
      out << absl::StrFormat("  FX effect: the actual at actual rates %s, %s %s than at the budget rates%s\n",
                             FormatAmount(t.actual_at_actual_rate(), rexp),
                             FormatAmount(t.fx_effect() < 0 ? -t.fx_effect() : t.fx_effect(), rexp),
                             t.fx_effect() > 0 ? "dearer" : "cheaper",
                             t.fx_months_without_actual_rate() > 0
                                 ? absl::StrCat(" (", t.fx_months_without_actual_rate(), " months without an actual rate)")
                                 : "");
    } else {
      out << "  FX effect: no actual rates recorded (set_actual_rate)\n";
    }
  }
  return 0;
}

int RunExplain(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.facility.empty()) return Usage(err, "explain: give --facility (a region is the sum of its plants)");
  const v1::VarianceRequest r = VarianceRequestOf(a);
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::VarianceExplanation response;
  grpc::Status s = stub->ExplainVariances(&ctx, r, &response);
  if (!s.ok()) return cli::Fail(err, "budgets explain", s);
  if (a.json) {
    out << cli::ToJson(response) << "\n";
    return response.equal() ? 0 : 1;
  }
  out << absl::StrFormat(
      "%s %s to %s recomputed from the raw events: the budget record to sequence %d, %d postings to sequence "
      "%d, %d production counts and corrections\n",
      a.facility, r.from_month(), r.to_month(), response.budget_sequence(), response.postings_read(),
      response.postings_sequence(), response.production_events_read());
  const int exponent = MinorExponent(response.served().currency()).value_or(2);
  out << absl::StrFormat("  %-18s %16s %16s\n", "", "service", "recomputed");
  for (auto [name, x, y] : {std::tuple{"actual", response.served().total().actual(), response.recomputed().total().actual()},
                            std::tuple{"flexible budget", response.served().total().flexible_budget(),
                                       response.recomputed().total().flexible_budget()},
                            std::tuple{"static budget", response.served().total().static_budget(),
                                       response.recomputed().total().static_budget()},
                            std::tuple{"good units", response.served().total().actual_output(),
                                       response.recomputed().total().actual_output()}}) {
    const bool units = std::string(name) == "good units";
    out << absl::StrFormat("  %-18s %16s %16s\n", name, units ? absl::StrCat(x) : FormatAmount(x, exponent),
                           units ? absl::StrCat(y) : FormatAmount(y, exponent));
  }
  if (response.equal()) {
    out << "  equal: every figure of the report, line by line\n";
    return 0;
  }
  out << "  DIFFERENT:\n";
  for (const auto& d : response.differences()) out << "    " << d << "\n";
  return 1;
}

const char* StageText(v1::InitiativeStage s) {
  switch (s) {
    case v1::PROPOSED: return "proposed";
    case v1::APPROVED: return "approved";
    case v1::IN_PROGRESS: return "in progress";
    case v1::REALISED: return "realised";
    case v1::CANCELLED: return "cancelled";
    default: return "?";
  }
}

int RunSavings(const Args& a, std::ostream& out, std::ostream& err) {
  if (!a.facility.empty() && !a.region.empty()) return Usage(err, "savings: give --facility or --region, not both");
  v1::SavingsRequest r;
  r.set_facility(a.facility);
  r.set_region(a.region);
  r.set_from_day(a.from);
  r.set_to_day(a.to.empty() ? a.from : a.to);
  auto stub = Stub(a, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  v1::SavingsResponse response;
  grpc::Status s = stub->GetSavings(&ctx, r, &response);
  if (!s.ok()) return cli::Fail(err, "budgets savings", s);
  if (a.json) {
    out << cli::ToJson(response) << "\n";
    return 0;
  }
  PrintSavings(response, r.from_day(), r.to_day(), out);
  return 0;
}

}  // namespace

void PrintSavings(const v1::SavingsResponse& response, const std::string& from, const std::string& to,
                  std::ostream& out) {
  const v1::SavingsTotal& t = response.total();
  const int exponent = MinorExponent(t.currency()).value_or(2);
  out << absl::StrFormat("Improvement savings, %s to %s, %s (measured from the target KPI against its baseline):\n",
                         from, to, t.currency().empty() ? "no initiatives" : t.currency());
  out << absl::StrFormat("  %-22s %12s %12s %12s %12s\n", "", "planned", "measured", "confirmed", "initiatives");
  auto row = [&](const v1::SavingsTotal& x, const char* indent) {
    out << absl::StrFormat("  %-22s %12s %12s %12s %12d\n", absl::StrCat(indent, x.scope()),
                           FormatAmount(x.planned(), exponent), FormatAmount(x.measured(), exponent),
                           FormatAmount(x.confirmed(), exponent), x.initiatives());
  };
  for (const auto& x : response.regions()) row(x, "region ");
  for (const auto& x : response.facilities()) row(x, "plant ");
  row(t, response.regions_size() + response.facilities_size() > 0 ? "total " : "");
  if (response.initiatives_size() > 0) out << "  initiatives (amounts in the plant's currency):\n";
  for (const auto& i : response.initiatives()) {
    const int e = MinorExponent(i.currency()).value_or(2);
    out << absl::StrFormat("    %s %s (%s, %s, %s%s%s): planned %s, measured %s, confirmed %s %s\n", i.facility(),
                           i.initiative(), StageText(i.stage()), v1::TargetKpi_Name(i.target_kpi()),
                           i.baseline_value().empty() ? "no baseline" : "baseline " + i.baseline_value(),
                           i.measured_value().empty() ? "" : " -> ", i.measured_value(),
                           FormatAmount(i.planned(), e), FormatAmount(i.measured(), e),
                           FormatAmount(i.confirmed(), e), i.currency());
    if (!i.not_measured().empty()) out << "        (" << i.not_measured() << ")\n";
  }
  if (response.without_ledger_size() > 0) {
    out << "  not in the figures (no ledger yet): ";
    for (int i = 0; i < response.without_ledger_size(); ++i) out << (i ? ", " : "") << response.without_ledger(i);
    out << "\n";
  }
}

absl::StatusOr<v1::ApplyBudgetRequest> BudgetFromYaml(const std::string& text) {
  v1::ApplyBudgetRequest request;
  TAKT_RETURN_IF_ERROR(cli::MessageFromYaml(text, "commands", &request));
  return request;
}

void AddBudgetsCommands(CLI::App& app, int* exit_code) {
  // takt simulate's budgets part (the same plants and days).
  cli::AddContextSimulateStep<BudgetsSimArgs>(
      kService, "Budgets (the same plants: budgets, standard costs, ledger postings):", RunBudgetsSimulate);
  auto a = std::make_shared<Args>();
  CLI::App* b = app.add_subcommand("budgets", "Budgets, standard costs, actual postings and variances");
  b->require_subcommand(1);
  auto common = [=](CLI::App* cmd) {
    cmd->add_option("--target", a->target, kTargetHelp)->capture_default_str();
    cmd->add_flag("--json", a->json, "JSON output");
  };
  CLI::App* apply = b->add_subcommand(
      "apply", "Record the ledger, accounts, cost centres, budgets, approvals, standard costs and exchange "
               "rates from a YAML file (idempotent)");
  common(apply);
  apply->add_option("--file", a->file, "budget .yaml (facility:, commands: [...])")->required();
  apply->add_option("--facility", a->facility, "Facility id (overrides the file's)");
  apply->add_flag("--dry-run", a->dry_run, "Check, record nothing");
  apply->add_option("--request-id", a->request_id, "Idempotency key (a resend changes nothing)");
  apply->callback([=] { *exit_code = RunApply(*a, std::cout, std::cerr); });

  CLI::App* ingest = b->add_subcommand(
      "ingest", "Stream actual postings (one Posting JSON object per line) from an ERP or general-ledger export");
  common(ingest);
  ingest->add_option("--facility", a->facility, "Facility id")->required();
  ingest->add_option("--file", a->file, "postings .jsonl")->required();
  ingest->callback([=] { *exit_code = RunIngest(*a, std::cout, std::cerr); });

  CLI::App* variances = b->add_subcommand(
      "variances", "Static and flexible budget, price/usage, rate/efficiency, spending/volume variances");
  common(variances);
  variances->add_option("--facility", a->facility, "Facility id");
  variances->add_option("--region", a->region, "Region id: its plants pooled in the reporting currency (neither: the enterprise)");
  variances->add_option("--from", a->from, "First month YYYY-MM")->required();
  variances->add_option("--to", a->to, "Last month YYYY-MM (default: --from)");
  variances->add_flag("--by-month", a->by_month, "A report per month as well");
  variances->callback([=] { *exit_code = RunVariances(*a, std::cout, std::cerr); });

  CLI::App* explain = b->add_subcommand(
      "explain", "An auditor's check: a facility's variances recomputed from the raw events beside the "
                 "service's (exit 1 when they differ)");
  common(explain);
  explain->add_option("--facility", a->facility, "Facility id")->required();
  explain->add_option("--from", a->from, "First month YYYY-MM")->required();
  explain->add_option("--to", a->to, "Last month YYYY-MM (default: --from)");
  explain->add_flag("--by-month", a->by_month, "Month by month as well");
  explain->callback([=] { *exit_code = RunExplain(*a, std::cout, std::cerr); });

  CLI::App* savings = b->add_subcommand(
      "savings", "Improvement initiatives: planned, measured (target KPI against its baseline) and confirmed "
                 "savings of a facility, a region, or every region");
  common(savings);
  savings->add_option("--facility", a->facility, "Facility id (its currency)");
  savings->add_option("--region", a->region, "Region id (reporting currency); neither: every region");
  savings->add_option("--from", a->from, "First day YYYY-MM-DD")->required();
  savings->add_option("--to", a->to, "Last day YYYY-MM-DD (default: --from)");
  savings->callback([=] { *exit_code = RunSavings(*a, std::cout, std::cerr); });

  auto sim = std::make_shared<BudgetsSimArgs>();
  sim->target = kDefaultAddress;
  CLI::App* simulate = b->add_subcommand(
      "simulate", "The demo plants' budgets, standard costs and postings (after takt simulate with the same "
                  "options), then the region variances and the most unfavourable ones");
  simulate->add_option("--target", sim->target, kTargetHelp)->capture_default_str();
  simulate->add_option("--facilities", sim->options.facilities, "Plants")->check(CLI::Range(1, 200))->capture_default_str();
  simulate->add_option("--days", sim->options.days, "Production days")->check(CLI::Range(2, 366))->capture_default_str();
  simulate->add_option("--seed", sim->options.seed, "Random seed")->capture_default_str();
  simulate->add_option("--start", sim->start, "First production day YYYY-MM-DD (default: days before yesterday)");
  simulate->callback([=] { *exit_code = RunBudgetsSimulate(*sim, std::cout, std::cerr); });
}

}  // namespace takt::budgets
