#include "libs/auth/access.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/auth/principal.h"
#include "libs/common/ids.h"

namespace takt::auth {
namespace {

constexpr struct {
  Role role;
  std::string_view name;
  std::initializer_list<Permission> permissions;
} kRoles[] = {
    {Role::kPlantManager, "plant-manager", {Permission::kRead, Permission::kOperate}},
    {Role::kRegionalDirector, "regional-director", {Permission::kRead}},
    {Role::kEnterpriseDirector, "enterprise-director", {Permission::kRead}},
    {Role::kQualityEngineer, "quality-engineer", {Permission::kRead, Permission::kQuality}},
    {Role::kStaffingAdministrator, "staffing-administrator", {Permission::kRead, Permission::kPersonalData}},
    {Role::kAuditor, "auditor", {Permission::kRead, Permission::kAudit}},
    {Role::kAdministrator, "administrator", {Permission::kAdminister}},
};

}  // namespace

std::string RoleName(Role role) {
  for (const auto& r : kRoles) {
    if (r.role == role) return std::string(r.name);
  }
  return "unknown";
}

absl::StatusOr<Role> ParseRole(std::string_view name) {
  std::vector<std::string> names;
  for (const auto& r : kRoles) {
    if (r.name == name) return r.role;
    names.emplace_back(r.name);
  }
  return absl::InvalidArgumentError(absl::StrCat("role '", std::string(name.substr(0, 64)),
                                                 "' is not one of ", absl::StrJoin(names, ", ")));
}

std::string PermissionName(Permission permission) {
  switch (permission) {
    case Permission::kRead: return "read";
    case Permission::kOperate: return "operate";
    case Permission::kQuality: return "quality";
    case Permission::kPersonalData: return "personal-data";
    case Permission::kAudit: return "audit";
    case Permission::kAdminister: return "administer";
  }
  return "unknown";
}

bool RoleGrants(Role role, Permission permission) {
  for (const auto& r : kRoles) {
    if (r.role == role) {
      return std::find(r.permissions.begin(), r.permissions.end(), permission) != r.permissions.end();
    }
  }
  return false;
}

std::string Scope::Name() const {
  switch (kind) {
    case Kind::kEnterprise: return "enterprise";
    case Kind::kRegion: return absl::StrCat("regions/", id);
    case Kind::kFacility: return absl::StrCat("facilities/", id);
  }
  return "";
}

absl::StatusOr<Scope> ParseScope(std::string_view name) {
  if (name == "enterprise") return Scope::Enterprise();
  for (auto [prefix, kind] : {std::pair<std::string_view, Scope::Kind>{"regions/", Scope::Kind::kRegion},
                              {"facilities/", Scope::Kind::kFacility}}) {
    if (name.substr(0, prefix.size()) != prefix) continue;
    std::string id(name.substr(prefix.size()));
    if (absl::Status s = ValidateId("scope", id); !s.ok()) return s;
    return Scope{kind, std::move(id)};
  }
  return absl::InvalidArgumentError(absl::StrCat("scope '", std::string(name.substr(0, 80)),
                                                 "' is not enterprise, regions/<region> or facilities/<facility>"));
}

bool Covers(const Scope& bound, const Scope& target, const RegionOf& region_of) {
  switch (bound.kind) {
    case Scope::Kind::kEnterprise: return true;
    case Scope::Kind::kRegion:
      if (target.kind == Scope::Kind::kRegion) return target.id == bound.id;
      if (target.kind == Scope::Kind::kFacility) {
        std::optional<std::string> region = region_of(target.id);
        return region.has_value() && *region == bound.id;
      }
      return false;
    case Scope::Kind::kFacility: return target == bound;
  }
  return false;
}

absl::Status AccessBindings::Check(const Binding& binding) {
  if (absl::Status s = ValidateSubject(binding.subject); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("subject: ", s.message()));
  }
  if (binding.role == Role::kAdministrator && binding.scope.kind != Scope::Kind::kEnterprise) {
    return absl::InvalidArgumentError(
        absl::StrCat("scope: an administrator is bound to the enterprise, not ", binding.scope.Name()));
  }
  return absl::OkStatus();
}

bool AccessBindings::Has(const Binding& binding) const {
  auto it = by_subject_.find(binding.subject);
  return it != by_subject_.end() && std::find(it->second.begin(), it->second.end(), binding) != it->second.end();
}

void AccessBindings::Grant(const Binding& binding) {
  administrator_ever_granted_ = administrator_ever_granted_ || binding.role == Role::kAdministrator;
  if (Has(binding)) return;
  std::vector<Binding>& of = by_subject_[binding.subject];
  of.insert(std::upper_bound(of.begin(), of.end(), binding), binding);
}

void AccessBindings::Revoke(const Binding& binding) {
  auto it = by_subject_.find(binding.subject);
  if (it == by_subject_.end()) return;
  std::erase(it->second, binding);
  if (it->second.empty()) by_subject_.erase(it);
}

std::vector<Binding> AccessBindings::All() const {
  std::vector<Binding> all;
  for (const auto& [subject, bindings] : by_subject_) all.insert(all.end(), bindings.begin(), bindings.end());
  return all;
}

std::vector<Binding> AccessBindings::Of(std::string_view subject) const {
  auto it = by_subject_.find(subject);
  return it == by_subject_.end() ? std::vector<Binding>{} : it->second;
}

bool AccessBindings::Allows(std::string_view subject, Permission permission, const Scope& target,
                            const RegionOf& region_of) const {
  auto it = by_subject_.find(subject);
  if (it == by_subject_.end()) return false;
  for (const Binding& b : it->second) {
    if (RoleGrants(b.role, permission) && Covers(b.scope, target, region_of)) return true;
  }
  return false;
}

bool AccessBindings::AllowsSomewhere(std::string_view subject, Permission permission) const {
  auto it = by_subject_.find(subject);
  if (it == by_subject_.end()) return false;
  for (const Binding& b : it->second) {
    if (RoleGrants(b.role, permission)) return true;
  }
  return false;
}

}  // namespace takt::auth
