// File: registry.h
// -----------------------------------------------------------------------------
// The one list of Takt's modules. A new context adds a line to Modules()
// (services/registry.cc) and nothing else outside its folder: `takt serve
// --services`, Kafka topics, ownership, audit contexts and the CLI all come
// from here.
#ifndef TAKT_SERVICES_REGISTRY_H_
#define TAKT_SERVICES_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/host/host.h"
#include "libs/host/module.h"

namespace takt::services {

// In start order: a module may use what the ones before it provide.
const std::vector<host::ModuleInfo>& Modules();

// Every context some module owns (each gets topic takt.<name>.v1).
std::vector<es::ContextDescriptor> Contexts();
std::vector<std::string> ContextNames();

// host::TaktServer::Start with every registered module.
absl::StatusOr<std::unique_ptr<host::TaktServer>> StartServer(const host::ServerOptions& options);

}  // namespace takt::services

#endif  // TAKT_SERVICES_REGISTRY_H_
