// File: module.h
// -----------------------------------------------------------------------------
// The seam every bounded context lands on. A context is a folder under
// services/ that provides one ModuleInfo (listed once, in
// services/registry.cc): its name (what `takt serve --services` takes), the
// contexts it writes and reads (Kafka topics, ownership, audit), how a
// facility's history is laid out in its streams, a factory for the running
// module, and its CLI commands. The host (host.h) opens the log and the
// shared enterprise read model, starts the modules a process runs, registers
// their gRPC services, runs their background loops and reports their health.
#ifndef TAKT_LIBS_HOST_MODULE_H_
#define TAKT_LIBS_HOST_MODULE_H_

#include <any>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/es/context.h"
#include "libs/kpi/family.h"

namespace CLI {
class App;
}
namespace google::protobuf {
class FileDescriptor;
}
namespace grpc {
class Service;
}
namespace takt::eventlog {
class EventLog;
}
namespace takt::model {
class ModelStore;
}

namespace takt::host {

struct ServerOptions;
struct ModuleInfo;

// gRPC health of the services a module registered.
class Health {
 public:
  virtual ~Health() = default;
  virtual void SetServing(std::string_view service, bool serving) = 0;
};

// What the host gives the modules of one process.
class Env {
 public:
  Env(eventlog::EventLog* log, model::ModelStore* models, const ServerOptions* options,
      const std::vector<ModuleInfo>* registry, std::vector<es::ContextDescriptor> contexts,
      bool embedded)
      : log_(log),
        models_(models),
        options_(options),
        registry_(registry),
        contexts_(std::move(contexts)),
        embedded_(embedded) {}

  eventlog::EventLog* log() const { return log_; }
  // The enterprise model every context reads (followed from the log).
  model::ModelStore* models() const { return models_; }
  const ServerOptions& options() const { return *options_; }
  // Every registered module (not only those this process runs): what they
  // declare, such as their contributions to other modules (extensions).
  const std::vector<ModuleInfo>& registry() const { return *registry_; }
  // Every registered context (not only those this process runs).
  const std::vector<es::ContextDescriptor>& contexts() const { return contexts_; }
  // True on the embedded log (one process runs every module).
  bool embedded() const { return embedded_; }
  // True when this process does not write the enterprise stream and so
  // follows it (the host refreshes the model in the background).
  bool follows_model() const { return follows_model_; }
  void set_follows_model(bool follows) { follows_model_ = follows; }

  // Objects one module offers the others in the same process (the rollups
  // module offers its store, which audit's explain compares against).
  // Provide before the modules after it start; Find returns null when no
  // module of this process provides one.
  template <typename T>
  void Provide(T* object) {
    provided_[std::type_index(typeid(T))] = object;
  }
  template <typename T>
  T* Find() const {
    auto it = provided_.find(std::type_index(typeid(T)));
    return it == provided_.end() ? nullptr : static_cast<T*>(it->second);
  }

 private:
  eventlog::EventLog* log_;
  model::ModelStore* models_;
  const ServerOptions* options_;
  const std::vector<ModuleInfo>* registry_;
  std::vector<es::ContextDescriptor> contexts_;
  bool embedded_;
  bool follows_model_ = false;
  absl::flat_hash_map<std::type_index, void*> provided_;
};

// An HTTP/JSON route onto a unary method of the service (libs/http):
// "GET" or "POST", a path template in the style of Google AIP-127
// ("/v1/{scope=regions/*}:queryKpis"), the method's name ("QueryKpis").
struct HttpRoute {
  std::string verb;
  std::string path;
  std::string method;
};

// The routes of a method whose request names a scope in its field "scope":
// GET /v1/enterprise<suffix>, /v1/regions/R<suffix> and
// /v1/facilities/F[/areas/A|/workCenters/W|/workUnits/U]<suffix>.
inline std::vector<HttpRoute> ScopeRoutes(const std::string& suffix, const std::string& method) {
  return {{"GET", "/v1/{scope=enterprise}" + suffix, method},
          {"GET", "/v1/{scope=regions/*}" + suffix, method},
          {"GET", "/v1/{scope=facilities/**}" + suffix, method}};
}

// A gRPC service a module registers, with its health name.
struct ServiceEntry {
  grpc::Service* service;
  std::string name;               // full service name, e.g. "takt.rollups.v1.RollupService"
  bool serving_at_start = true;   // false: the module turns it SERVING when ready
  // Its methods a facility system (a client certificate "facility:<id>")
  // may call: streamed ingest of batches, each bound to that facility
  // (ServeBatches). Every other method is closed to facility systems.
  std::vector<std::string> facility_methods = {};
  // Its routes on `takt serve --http-listen`; authorized as the method is.
  std::vector<HttpRoute> http = {};
};

// A running module. Start() opens its stores (the log and the model are
// open, modules before it in the registry have started); Services() lists
// its gRPC services (owned by the module); Run() starts its background
// loops once the server listens; Stop() ends them before destruction.
class Module {
 public:
  virtual ~Module() = default;
  virtual absl::Status Start(Env& env) = 0;
  virtual std::vector<ServiceEntry> Services() = 0;
  virtual void Run(Env& env, Health& health) {}
  virtual void Stop() {}
  // Waits until the module's background work has caught up with the log
  // (tests); modules without such work return OK at once.
  virtual absl::Status WaitCaughtUp(absl::Duration timeout) { return absl::OkStatus(); }
  // Copies the module's own state that the log cannot rebuild (staffing's
  // personal-data keys) into `dir`, the backup's root, under the same path
  // as in the data directory (restore copies it back); modules whose state
  // is derived from the log (or none) copy nothing.
  virtual absl::Status Backup(const std::string& dir) { return absl::OkStatus(); }
};

// What a context declares, once.
struct ModuleInfo {
  std::string name;  // --services name
  // Contexts it writes (on Kafka: under this process's transactional id).
  std::vector<es::ContextDescriptor> owns;
  // Whether a process running it writes `owns` under these options (null:
  // always). The rollups write their context only while KPI reads are
  // recorded, so that otherwise they stay a reader without a transactional
  // id, as many as needed.
  std::function<bool(const ServerOptions&)> writes;
  // Contexts it reads and does not write (by name).
  std::vector<std::string> reads;
  // The .proto files of the event payloads it writes: listed, they are
  // linked into every binary that has the registry, and audit replays show
  // the payloads as JSON by type name (the generated descriptor pool).
  std::vector<const google::protobuf::FileDescriptor*> payload_files;
  // Whether it reads every registered context (audit, rollups).
  bool reads_all = false;
  // Element families (and their KPIs and folds) its events bring to the
  // rollups (libs/kpi/family.h); the host registers them at start.
  std::vector<kpi::FamilyRegistration> families;
  std::function<std::unique_ptr<Module>()> create;
  // What it contributes to other modules, by type: each module looks for
  // the types it takes (the rollups and audit take a
  // rollup::ProductionFold, services/rollups/contribution.h), so this seam
  // needs to know none of them.
  std::vector<std::any> extensions;
  // Adds the module's own flags to `takt serve`, each bound to
  // (*flags)[name without dashes]; Start reads them from
  // ServerOptions::module_flags and refuses a bad value naming the flag.
  std::function<void(CLI::App& serve, std::map<std::string, std::string>* flags)> add_serve_flags;
  // Adds the context's CLI commands; a command's callback sets *exit_code.
  std::function<void(CLI::App& app, int* exit_code)> add_commands;
};

}  // namespace takt::host

#endif  // TAKT_LIBS_HOST_MODULE_H_
