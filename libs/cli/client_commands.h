// File: client_commands.h
// -----------------------------------------------------------------------------
// `takt serve`, and the commands that talk to a running server over gRPC
// (--target is one address, or one per service when the services run as
// separate processes: "enterprise=A,scheduling=B,rollups=C"):
// `takt apply` (enterprise model from YAML), `takt ingest` (observations from
// JSON Lines) and `takt rollup` (KPI queries).
#ifndef TAKT_LIBS_CLI_CLIENT_COMMANDS_H_
#define TAKT_LIBS_CLI_CLIENT_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

namespace takt::cli {

struct ServeArgs {
  std::string data_dir = "takt-data";
  std::string listen = "127.0.0.1:7470";
  std::string kafka_brokers;  // empty: the embedded log
  std::string owner_id = "serve";
  std::vector<std::string> services;  // empty: all
  std::string earliest_observation = "2000-01-01";
  int max_lateness_days = 35;  // 0: no bound
};
int RunServe(const ServeArgs& args, std::ostream& out, std::ostream& err);

struct ApplyArgs {
  std::string target = "127.0.0.1:7470";
  std::string file;
  bool dry_run = false;  // print the events it would write, write nothing
  bool json = false;
};
int RunApply(const ApplyArgs& args, std::ostream& out, std::ostream& err);

struct IngestArgs {
  std::string target = "127.0.0.1:7470";
  std::string file;
  bool json = false;
};
int RunIngest(const IngestArgs& args, std::ostream& out, std::ostream& err);

struct RollupArgs {
  std::string target = "127.0.0.1:7470";
  std::string scope = "enterprise";
  std::vector<std::string> kpis;
  std::string from, to, by;
  bool pareto = false;
  bool json = false;
};
int RunRollup(const RollupArgs& args, std::ostream& out, std::ostream& err);

struct SimulateArgs {
  std::string target = "127.0.0.1:7470";
  int facilities = 6;
  int days = 3;
  uint64_t seed = 1;
  std::string start;  // first production day; default: `days` days before yesterday
  bool summary = true;
  bool json = false;  // one JSON object of counts; no summary (use takt rollup --json)
};
// Sends a simulated enterprise and its gateways' observations through the
// public API, then prints a director's summary.
int RunSimulate(const SimulateArgs& args, std::ostream& out, std::ostream& err);

}  // namespace takt::cli

#endif  // TAKT_LIBS_CLI_CLIENT_COMMANDS_H_
