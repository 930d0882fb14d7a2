#include "services/rollups/cli.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/cli/grpc_client.h"
#include "libs/common/ids.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"

namespace takt::cli {
namespace {

constexpr char kTargetHelp[] =
    "Server address host:port, or one per service when they run as separate processes: "
    "enterprise=A,scheduling=B,rollups=C";

}  // namespace

int RunRollup(const RollupArgs& args, std::ostream& out, std::ostream& err) {
  rollups::v1::QueryKpisRequest req;
  req.set_scope(args.scope);
  for (const auto& k : args.kpis) req.add_kpis(k);
  req.set_from(args.from);
  req.set_to(args.to);
  req.set_by(args.by);
  req.set_downtime_pareto(args.pareto);
  auto channel = Connect(args.target, "rollups", err);
  if (!channel) return 2;
  auto stub = rollups::v1::RollupService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  rollups::v1::QueryKpisResponse resp;
  grpc::Status s = stub->QueryKpis(&ctx, req, &resp);
  if (!s.ok()) return Fail(err, "rollup", s);
  if (args.json) {
    out << ToJson(resp) << "\n";
    return 0;
  }
  auto print_row = [&](const rollups::v1::Row& row) {
    std::vector<std::string> cells;
    for (const auto& k : row.kpis()) {
      cells.push_back(k.has_value() ? absl::StrFormat("%s %.1f%s", k.kpi(), k.value(),
                                                      k.unit() == "%" ? "%" : " " + k.unit())
                                    : absl::StrCat(k.kpi(), " -"));
    }
    out << absl::StrFormat("%-44s %s\n", row.label(), absl::StrJoin(cells, "  "));
  };
  print_row(resp.total());
  for (const auto& row : resp.rows()) {
    out << "  ";
    print_row(row);
  }
  if (resp.downtime_pareto_size() > 0) out << "downtime by reason:\n";
  for (const auto& d : resp.downtime_pareto()) {
    out << absl::StrFormat("  %-28s %8.2f h %6d stoppages %5.1f%%\n", d.reason(), d.hours(),
                           d.stoppages(), d.share());
  }
  out << "(reflects " << resp.positions_size() << " stream positions; " << resp.lag_events()
      << " events not yet applied)\n";
  return 0;
}


void AddRollupsCommands(CLI::App& app, int* exit_code) {
  struct State {
    RollupArgs rollup;
    std::string kpi_list;
  };
  auto st = std::make_shared<State>();


  CLI::App* rollup_cmd = app.add_subcommand("rollup", "Query KPIs for a scope and period");
  rollup_cmd->add_option("--target", st->rollup.target, kTargetHelp)->capture_default_str();
  rollup_cmd->add_option("--scope", st->rollup.scope,
                         "enterprise | regions/R | facilities/F[/areas|workCenters|workUnits/X]")
      ->capture_default_str();
  rollup_cmd->add_option("--kpi", st->kpi_list, "Comma-separated KPI ids (default OEE, A, E, Q)");
  rollup_cmd->add_option("--from", st->rollup.from, "First production day YYYY-MM-DD")->required();
  rollup_cmd->add_option("--to", st->rollup.to, "Last production day YYYY-MM-DD")->required();
  rollup_cmd->add_option("--by", st->rollup.by, "child | hour | shift | day | week | month");
  rollup_cmd->add_flag("--pareto", st->rollup.pareto, "Also the downtime Pareto by reason");
  rollup_cmd->add_flag("--json", st->rollup.json, "Protobuf JSON of the response");
  rollup_cmd->callback([=] {
    for (absl::string_view k : absl::StrSplit(st->kpi_list, ',', absl::SkipEmpty())) {
      st->rollup.kpis.emplace_back(k);
    }
    *exit_code = RunRollup(st->rollup, std::cout, std::cerr);
  });

}

}  // namespace takt::cli
