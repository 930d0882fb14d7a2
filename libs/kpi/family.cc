#include "libs/kpi/family.h"

#include "absl/base/const_init.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace takt::kpi {
namespace {

absl::Mutex g_mu(absl::kConstInit);

std::vector<std::unique_ptr<FamilyRegistration>>& Registered() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_mu) {
  static auto* registered = new std::vector<std::unique_ptr<FamilyRegistration>>();
  return *registered;
}

bool IsName(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] < 'a' || s[0] > 'z') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

void AddInto(Values& into, const Values& add) {
  if (into.size() < add.size()) into.resize(add.size(), 0);
  for (size_t i = 0; i < add.size(); ++i) into[i] = AddChecked(into[i], add[i]);
}

absl::Status RegisterFamily(FamilyRegistration r) {
  const std::string name = r.family.name;
  if (!IsName(name) || name == kProductionFamily) {
    return absl::InvalidArgumentError(absl::StrCat(
        "family '", name, "': a name of [a-z0-9_], starting with a letter, not 'production'"));
  }
  if (r.family.elements.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("family '", name, "' has no elements"));
  }
  if (r.context.empty() || !r.fold) {
    return absl::InvalidArgumentError(absl::StrCat("family '", name, "': needs a context and a fold"));
  }
  const int width = static_cast<int>(r.family.elements.size());
  for (const KpiDef& k : r.kpis) {
    if (k.family != name) {
      return absl::InvalidArgumentError(
          absl::StrCat("kpi '", k.id, "' names family '", k.family, "', registered under '", name, "'"));
    }
    for (const Factor& f : k.factors) {
      for (const auto* side : {&f.numerator, &f.denominator}) {
        for (int e : *side) {
          if (e < 0 || e >= width) {
            return absl::InvalidArgumentError(absl::StrCat(
                "kpi '", k.id, "': element ", e, " is not one of family '", name, "''s ", width));
          }
        }
      }
    }
    if (FindKpi(k.id) != nullptr) {
      return absl::AlreadyExistsError(absl::StrCat("kpi '", k.id, "' is registered already"));
    }
  }
  absl::MutexLock lock(&g_mu);
  for (const auto& f : Registered()) {
    if (f->family.name == name) {
      return absl::AlreadyExistsError(absl::StrCat("family '", name, "' is registered already"));
    }
  }
  Registered().push_back(std::make_unique<FamilyRegistration>(std::move(r)));
  return absl::OkStatus();
}

std::vector<const FamilyRegistration*> Families() {
  absl::MutexLock lock(&g_mu);
  std::vector<const FamilyRegistration*> out;
  for (const auto& f : Registered()) out.push_back(f.get());
  return out;
}

const FamilyRegistration* FindFamily(std::string_view name) {
  absl::MutexLock lock(&g_mu);
  for (const auto& f : Registered()) {
    if (f->family.name == name) return f.get();
  }
  return nullptr;
}

}  // namespace takt::kpi
