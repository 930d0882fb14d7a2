#include "services/enterprise/cli.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "nlohmann/json.hpp"
#include "CLI/CLI.hpp"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/cli/grpc_client.h"
#include "libs/common/ids.h"
#include "services/enterprise/definitions_yaml.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"

namespace takt::cli {
namespace {

namespace ev1 = ::takt::enterprise::v1;

constexpr char kTargetHelp[] =
    "Server address host:port, or one per service when they run as separate processes: "
    "enterprise=A,scheduling=B,rollups=C";

}  // namespace

int RunApply(const ApplyArgs& args, std::ostream& out, std::ostream& err) {
  std::ifstream in(args.file);
  if (!in) {
    err << "takt: apply: cannot read " << args.file << "\n";
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = enterprise::ParseDefinitionsYaml(text.str(), args.file);
  if (!parsed.ok()) {
    err << "takt: apply: " << parsed.status().message() << "\n";
    return 2;
  }
  ev1::ApplyDefinitionsRequest req = *std::move(parsed);
  req.set_validate_only(args.dry_run);
  // One request id per invocation (see schedule apply): the definitions are
  // idempotent themselves, so applying the same file twice changes nothing.
  req.set_request_id(NewUuid());
  auto channel = Connect(args.target, "enterprise", err);
  if (!channel) return 2;
  auto stub = ev1::EnterpriseService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  ev1::ApplyDefinitionsResponse resp;
  grpc::Status s = stub->ApplyDefinitions(&ctx, req, &resp);
  if (!s.ok()) return Fail(err, "apply", s);
  if (args.dry_run) {
    // The events the server would write, one per line, then nothing written.
    for (const auto& d : resp.would_write()) out << ToJson(d) << "\n";
  }
  if (args.json) {
    // nlohmann escapes the file name as JSON requires (and replaces bytes
    // that are not UTF-8).
    out << nlohmann::json{{"file", args.file},
                          {"changed", resp.changed()},
                          {"unchanged", resp.unchanged()},
                          {"dry_run", args.dry_run}}
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
  } else {
    out << (args.dry_run ? "would apply " : "applied ") << args.file << ": " << resp.changed()
        << " changed, " << resp.unchanged() << " unchanged" << (args.dry_run ? " (nothing written)" : "")
        << "\n";
  }
  return 0;
}

int RunAccess(const AccessArgs& args, std::ostream& out, std::ostream& err) {
  const std::string what = absl::StrCat("access ", args.action);
  auto channel = Connect(args.target, "enterprise", err);
  if (!channel) return 2;
  auto stub = ev1::EnterpriseService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (args.action == "list") {
    ev1::ListRoleBindingsRequest req;
    req.set_subject(args.subject);
    ev1::ListRoleBindingsResponse resp;
    grpc::Status s = stub->ListRoleBindings(&ctx, req, &resp);
    if (!s.ok()) return Fail(err, what, s);
    if (args.json) {
      for (const auto& b : resp.bindings()) out << ToJson(b) << "\n";
      return 0;
    }
    out << absl::StrFormat("%-32s %-24s %s\n", "SUBJECT", "ROLE", "SCOPE");
    for (const auto& b : resp.bindings()) {
      out << absl::StrFormat("%-32s %-24s %s\n", b.subject(), b.role(), b.scope());
    }
    if (resp.bindings().empty()) out << "(no role bindings)\n";
    return 0;
  }
  ev1::RoleRequest req;
  req.set_request_id(NewUuid());
  req.set_subject(args.subject);
  req.set_role(args.role);
  req.set_scope(args.scope);
  req.set_reason(args.reason);
  ev1::RoleResponse resp;
  const bool grant = args.action == "grant";
  grpc::Status s = grant ? stub->GrantRole(&ctx, req, &resp) : stub->RevokeRole(&ctx, req, &resp);
  if (!s.ok()) return Fail(err, what, s);
  if (args.json) {
    out << ToJson(resp) << "\n";
  } else if (resp.changed()) {
    out << (grant ? "granted " : "revoked ") << args.role << " on " << args.scope << (grant ? " to " : " from ")
        << args.subject << "\n";
  } else {
    out << args.subject << (grant ? " already has " : " does not have ") << args.role << " on " << args.scope
        << ": nothing recorded\n";
  }
  return 0;
}

void AddEnterpriseCommands(CLI::App& app, int* exit_code) {
  struct State {
    ApplyArgs apply;
    AccessArgs access;
  };
  auto st = std::make_shared<State>();

  CLI::App* apply_cmd = app.add_subcommand(
      "apply", "Create or update the enterprise model a YAML file describes (idempotent)");
  apply_cmd->add_option("--target", st->apply.target, kTargetHelp)->capture_default_str();
  apply_cmd->add_option("--file", st->apply.file, "enterprise.yaml")->required();
  apply_cmd->add_flag("--dry-run", st->apply.dry_run,
                      "Print the events the server would write (JSON lines); write nothing");
  apply_cmd->add_flag("--json", st->apply.json, "Print the summary as JSON");
  apply_cmd->callback([=] { *exit_code = RunApply(st->apply, std::cout, std::cerr); });

  CLI::App* access = app.add_subcommand(
      "access", "People's roles on the enterprise, a region or a facility (role bindings, recorded as events)");
  access->require_subcommand(1);
  constexpr char kRoles[] =
      "plant-manager, regional-director, enterprise-director, quality-engineer, staffing-administrator, "
      "auditor or administrator";
  for (const char* action : {"grant", "revoke"}) {
    CLI::App* cmd = access->add_subcommand(
        action, std::string(action) == "grant" ? "Give a person a role on a scope (administrators)"
                                               : "Take a role on a scope from a person (administrators)");
    cmd->add_option("--target", st->access.target, kTargetHelp)->capture_default_str();
    cmd->add_option("--subject", st->access.subject, "The person: their token's subject")->required();
    cmd->add_option("--role", st->access.role, kRoles)->required();
    cmd->add_option("--scope", st->access.scope, "enterprise, regions/<region> or facilities/<facility>")
        ->required();
    cmd->add_option("--reason", st->access.reason, "Why (recorded with the binding)")->required();
    cmd->add_flag("--json", st->access.json, "Print the answer as JSON");
    cmd->callback([=] {
      st->access.action = cmd->get_name();
      *exit_code = RunAccess(st->access, std::cout, std::cerr);
    });
  }
  CLI::App* list = access->add_subcommand("list", "The role bindings in force (yours, or everyone's for administrators)");
  list->add_option("--target", st->access.target, kTargetHelp)->capture_default_str();
  list->add_option("--subject", st->access.subject, "Only this person's");
  list->add_flag("--json", st->access.json, "JSON lines");
  list->callback([=] {
    st->access.action = "list";
    *exit_code = RunAccess(st->access, std::cout, std::cerr);
  });

}

}  // namespace takt::cli
