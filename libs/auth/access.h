// File: access.h
// -----------------------------------------------------------------------------
// Who may do what, where: roles, the permissions they carry, the scopes
// (the enterprise, a region, a facility) they are bound to, and the one
// decision every RPC asks for. Pure: no I/O, no gRPC.
//
// People get roles by role bindings, events in the enterprise context
// (RoleGranted, RoleRevoked: who granted what to whom, when and why), so
// the access history is replayed and verified like any other. A binding
// to the enterprise covers every region and facility; to a region, that
// region and the facilities it holds now; to a facility, that facility.
//
//   role                     permissions             typical scope
//   plant-manager            read, operate           a facility
//   regional-director        read                    a region
//   enterprise-director      read                    the enterprise
//   quality-engineer         read, quality           a facility or region
//   staffing-administrator   read, personal-data     a facility or region
//   auditor                  read, audit             any
//   administrator            administer              the enterprise only
//
// Permissions: `read` KPIs, schedules, charts, budgets and the
// pseudonymous staffing views; `operate` plan and run (work orders,
// schedules, corrections with a reason, budgets, postings, rosters);
// `quality` inspection plans, limits, samples, nonconformances;
// `personal-data` people's records (the only way to see names, contacts,
// evaluations); `audit` replay, export, verify, explain; `administer` the
// enterprise model and the role bindings.
#ifndef TAKT_LIBS_AUTH_ACCESS_H_
#define TAKT_LIBS_AUTH_ACCESS_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace takt::auth {

enum class Role {
  kPlantManager,
  kRegionalDirector,
  kEnterpriseDirector,
  kQualityEngineer,
  kStaffingAdministrator,
  kAuditor,
  kAdministrator,
};
inline constexpr Role kAllRoles[] = {Role::kPlantManager,          Role::kRegionalDirector, Role::kEnterpriseDirector,
                                     Role::kQualityEngineer,       Role::kStaffingAdministrator,
                                     Role::kAuditor,               Role::kAdministrator};

enum class Permission { kRead, kOperate, kQuality, kPersonalData, kAudit, kAdminister };
inline constexpr Permission kAllPermissions[] = {Permission::kRead,         Permission::kOperate,
                                                 Permission::kQuality,      Permission::kPersonalData,
                                                 Permission::kAudit,        Permission::kAdminister};

// "plant-manager", ...; ParseRole refuses anything else, listing the roles.
std::string RoleName(Role role);
absl::StatusOr<Role> ParseRole(std::string_view name);
// "read", "operate", "quality", "personal-data", "audit", "administer".
std::string PermissionName(Permission permission);
bool RoleGrants(Role role, Permission permission);

// Where a binding applies, or what a request touches.
struct Scope {
  enum class Kind { kEnterprise, kRegion, kFacility };
  Kind kind = Kind::kEnterprise;
  std::string id;  // the region or facility; empty for the enterprise

  static Scope Enterprise() { return {}; }
  static Scope Region(std::string region) { return {Kind::kRegion, std::move(region)}; }
  static Scope Facility(std::string facility) { return {Kind::kFacility, std::move(facility)}; }
  // "enterprise", "regions/<id>", "facilities/<id>" (the resource names).
  std::string Name() const;
  bool operator==(const Scope&) const = default;
  auto operator<=>(const Scope&) const = default;
};

// Parses "enterprise", "regions/<id>" or "facilities/<id>" (ids per
// ValidateId); INVALID_ARGUMENT otherwise.
absl::StatusOr<Scope> ParseScope(std::string_view name);

struct Binding {
  std::string subject;  // a person (ValidateSubject)
  Role role = Role::kPlantManager;
  Scope scope;
  auto operator<=>(const Binding&) const = default;
  bool operator==(const Binding&) const = default;
};

// The region a facility belongs to now, if any.
using RegionOf = std::function<std::optional<std::string>(const std::string& facility)>;

// The role bindings in force: folded from the grants and revocations.
class AccessBindings {
 public:
  // Checks a binding as a command would make it: a valid subject, an
  // administrator bound only to the enterprise.
  static absl::Status Check(const Binding& binding);

  bool Has(const Binding& binding) const;
  void Grant(const Binding& binding);
  void Revoke(const Binding& binding);
  // Whether an administrator was ever granted (revoked or not).
  bool administrator_ever_granted() const { return administrator_ever_granted_; }
  // Every binding, by subject then role then scope; or one subject's.
  std::vector<Binding> All() const;
  std::vector<Binding> Of(std::string_view subject) const;
  // Whether any binding of `subject` grants `permission` on `target`.
  bool Allows(std::string_view subject, Permission permission, const Scope& target,
              const RegionOf& region_of) const;
  // Whether any binding of `subject` grants `permission`, wherever it is.
  bool AllowsSomewhere(std::string_view subject, Permission permission) const;

 private:
  std::map<std::string, std::vector<Binding>, std::less<>> by_subject_;
  bool administrator_ever_granted_ = false;
};

// Whether a binding to `bound` covers `target`: the enterprise covers all,
// a region itself and the facilities it holds now, a facility itself.
bool Covers(const Scope& bound, const Scope& target, const RegionOf& region_of);

}  // namespace takt::auth

#endif  // TAKT_LIBS_AUTH_ACCESS_H_
