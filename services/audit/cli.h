// File: cli.h
// -----------------------------------------------------------------------------
// `takt audit replay | export | verify | explain`: the auditors' commands.
// `takt audit verify --export FILE --public-key KEY` needs no server.
#ifndef TAKT_SERVICES_AUDIT_CLI_H_
#define TAKT_SERVICES_AUDIT_CLI_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>
#include "libs/common/default_address.h"

namespace CLI {
class App;
}

namespace takt::cli {

struct AuditArgs {
  std::string target = kDefaultAddress;
  std::string facility;
  std::vector<std::string> contexts;
  std::vector<std::string> types;
  std::string from_time, to_time, as_of;  // RFC 3339
  uint64_t from_sequence = 0, to_sequence = 0;
  std::string out;             // export: file to write
  std::string format = "jsonl";  // export: jsonl (with proofs) or csv
  std::string export_file;     // verify: an export to verify offline
  std::string public_key_file;
  std::string trusted_heads_file;  // verify --export: heads kept earlier
  std::string trusted_ring_file;   // verify --export: key ring kept earlier
  std::string save_heads_file;     // verify --export: keep the export's heads
  std::string scope, kpi, from, to;  // explain
  std::string purpose;
  bool json = false;
  bool csv = false;
};

int RunAuditReplay(const AuditArgs& args, std::ostream& out, std::ostream& err);
int RunAuditExport(const AuditArgs& args, std::ostream& out, std::ostream& err);
int RunAuditVerify(const AuditArgs& args, std::ostream& out, std::ostream& err);
int RunAuditExplain(const AuditArgs& args, std::ostream& out, std::ostream& err);

// Adds `takt audit ...` to `app`; the callbacks set *exit_code.
void AddAuditCommands(CLI::App& app, int* exit_code);

}  // namespace takt::cli

#endif  // TAKT_SERVICES_AUDIT_CLI_H_
