// File: serve_command.h
// -----------------------------------------------------------------------------
// `takt serve`: the host running the registered modules (services/registry.h)
// until SIGINT or SIGTERM.
#ifndef TAKT_LIBS_CLI_SERVE_COMMAND_H_
#define TAKT_LIBS_CLI_SERVE_COMMAND_H_

#include <map>
#include <ostream>
#include <string>
#include <vector>
#include "libs/auth/transport.h"
#include "libs/common/default_address.h"

namespace takt::cli {

struct ServeArgs {
  std::string data_dir = "takt-data";
  std::string listen = kDefaultAddress;
  std::string kafka_brokers;  // empty: the embedded log
  std::string owner_id = "serve";
  std::vector<std::string> services;  // empty: all
  // The modules' own flags (ModuleInfo::add_serve_flags).
  std::map<std::string, std::string> module_flags;
  std::string log_format = "text";  // or "json" (server log lines on stderr)
  auth::TransportOptions security;   // --tls-*, --jwt-*, --insecure
  std::string http_listen;           // --http-listen: HTTP/JSON on host:port
  std::string http_static;           // --http-static: the dashboard's files
  std::string record_reads = "audit,personal-data";  // --record-reads (host::ParseReadRecording)
  std::string admin_listen;          // --admin-listen: /metrics, /livez, /readyz
  double shutdown_grace_seconds = 10;  // --shutdown-grace
  double stream_idle_timeout_seconds = 600;  // --stream-idle-timeout
  std::vector<std::string> kafka_properties;  // --kafka-property key=value (librdkafka)
  std::string kafka_properties_file;         // --kafka-properties-file (key=value lines)
  std::string config_file;           // --config (serve_config.h)
  std::string backup_root;           // --backup-root: where takt backup --target may write
};

int RunServe(const ServeArgs& args, std::ostream& out, std::ostream& err);

}  // namespace takt::cli

#endif  // TAKT_LIBS_CLI_SERVE_COMMAND_H_
