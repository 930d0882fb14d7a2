#include "services/enterprise/navigation.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"

namespace takt::enterprise {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;

// A parent's parts: {"facilities", "F", "areas", "A"}.
std::vector<std::string> Parts(const std::string& name) {
  if (name.empty()) return {};
  return absl::StrSplit(name, '/');
}

const char* KindName(ElementKind kind) {
  switch (kind) {
    case ElementKind::kRegion: return "regions";
    case ElementKind::kFacility: return "facilities";
    case ElementKind::kArea: return "areas";
    case ElementKind::kWorkCenter: return "work centers";
    case ElementKind::kWorkUnit: return "work units";
    case ElementKind::kProduct: return "products";
  }
  return "elements";
}

absl::Status BadParent(ElementKind kind, const std::string& parent, const char* allowed) {
  return absl::InvalidArgumentError(absl::StrCat("parent '", parent.substr(0, 120), "': ", KindName(kind),
                                                 " are listed under ", allowed));
}

v1::Element FacilityElement(const model::EnterpriseModel& m, const std::string& id, const model::FacilityInfo& f) {
  v1::Element e;
  e.set_name(absl::StrCat("facilities/", id));
  e.set_id(id);
  e.set_display_name(f.definition.display_name());
  if (auto region = m.RegionNow(id)) e.set_parent(absl::StrCat("regions/", *region));
  e.set_time_zone(f.definition.calendar().time_zone());
  *e.mutable_shifts() = f.definition.calendar().shifts();
  return e;
}

v1::Element RegionElement(const std::string& id, const v1::RegionDefined& r) {
  v1::Element e;
  e.set_name(absl::StrCat("regions/", id));
  e.set_id(id);
  e.set_display_name(r.display_name());
  return e;
}

v1::Element ProductElement(const std::string& id, const v1::ProductDefined& p) {
  v1::Element e;
  e.set_name(absl::StrCat("products/", id));
  e.set_id(id);
  e.set_display_name(p.display_name());
  e.set_planned_run_time_per_item_us(p.planned_run_time_per_item_us());
  return e;
}

}  // namespace

auth::Scope AccessScopeOfParent(ElementKind kind, const std::string& parent_or_name) {
  const std::vector<std::string> p = Parts(parent_or_name);
  if (p.size() >= 2 && p[0] == "facilities") return auth::Scope::Facility(p[1]);
  if (p.size() == 2 && p[0] == "regions") return auth::Scope::Region(p[1]);
  return auth::Scope::Enterprise();
}

absl::StatusOr<v1::ListElementsResponse> ListElements(const model::EnterpriseModel& m, ElementKind kind,
                                                      const v1::ListElementsRequest& request) {
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat("page_size must be 0 to ", kMaxPageSize));
  }
  const int page_size = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  if (!request.page_token().empty()) {
    TAKT_RETURN_IF_ERROR(ValidateId("page_token", request.page_token()));
  }
  const std::string& parent = request.parent();
  const std::vector<std::string> p = Parts(parent);
  // The facility (and area or work center) the parent names, checked.
  std::string facility, area, work_center, region;
  if (!p.empty()) {
    if (p.size() == 2 && p[0] == "regions" && kind == ElementKind::kFacility) {
      region = p[1];
      if (!m.HasRegion(region)) return absl::NotFoundError(absl::StrCat("region '", region, "' is not defined"));
    } else if ((p.size() == 2 || p.size() == 4) && p[0] == "facilities" &&
               (kind == ElementKind::kArea || kind == ElementKind::kWorkCenter || kind == ElementKind::kWorkUnit)) {
      facility = p[1];
      if (m.Facility(facility) == nullptr) {
        return absl::NotFoundError(absl::StrCat("facility '", facility.substr(0, 64), "' is not defined"));
      }
      if (p.size() == 4 && p[2] == "areas" && kind != ElementKind::kArea) {
        area = p[3];
        if (!m.HasArea(facility, area)) return absl::NotFoundError(absl::StrCat("area '", area, "' is not defined"));
      } else if (p.size() == 4 && p[2] == "workCenters" && kind == ElementKind::kWorkUnit) {
        work_center = p[3];
        if (!m.HasWorkCenter(facility, work_center)) {
          return absl::NotFoundError(absl::StrCat("work center '", work_center, "' is not defined"));
        }
      } else if (p.size() == 4) {
        return BadParent(kind, parent, "facilities/F, facilities/F/areas/A or facilities/F/workCenters/W");
      }
    } else {
      switch (kind) {
        case ElementKind::kRegion:
        case ElementKind::kProduct: return BadParent(kind, parent, "the enterprise (no parent)");
        case ElementKind::kFacility: return BadParent(kind, parent, "the enterprise or regions/R");
        default: return BadParent(kind, parent, "facilities/F");
      }
    }
  } else if (kind == ElementKind::kArea || kind == ElementKind::kWorkCenter || kind == ElementKind::kWorkUnit) {
    return BadParent(kind, parent, "facilities/F");
  }

  v1::ListElementsResponse out;
  const std::string& after = request.page_token();
  auto add = [&](const std::string& id, v1::Element e) -> bool {
    if (!after.empty() && id <= after) return true;
    if (out.elements_size() == page_size) {
      out.set_next_page_token(out.elements(page_size - 1).id());
      return false;
    }
    *out.add_elements() = std::move(e);
    return true;
  };
  switch (kind) {
    case ElementKind::kRegion:
      for (const auto& [id, r] : m.regions()) {
        if (!add(id, RegionElement(id, r))) break;
      }
      break;
    case ElementKind::kFacility:
      for (const auto& [id, f] : m.facilities()) {
        if (!region.empty() && m.RegionNow(id) != region) continue;
        if (!add(id, FacilityElement(m, id, f))) break;
      }
      break;
    case ElementKind::kArea:
      for (auto it = m.areas().lower_bound({facility, ""}); it != m.areas().end() && it->first.first == facility;
           ++it) {
        v1::Element e;
        e.set_name(absl::StrCat("facilities/", facility, "/areas/", it->first.second));
        e.set_id(it->first.second);
        e.set_display_name(it->second.display_name());
        e.set_parent(absl::StrCat("facilities/", facility));
        if (!add(it->first.second, std::move(e))) break;
      }
      break;
    case ElementKind::kWorkCenter:
      for (auto it = m.work_centers().lower_bound({facility, ""});
           it != m.work_centers().end() && it->first.first == facility; ++it) {
        if (!area.empty() && it->second.area() != area) continue;
        v1::Element e;
        e.set_name(absl::StrCat("facilities/", facility, "/workCenters/", it->first.second));
        e.set_id(it->first.second);
        e.set_display_name(it->second.display_name());
        e.set_parent(absl::StrCat("facilities/", facility, "/areas/", it->second.area()));
        if (!add(it->first.second, std::move(e))) break;
      }
      break;
    case ElementKind::kWorkUnit: {
      const std::vector<std::string> units = m.WorkUnits(facility, area, work_center);
      for (const std::string& id : units) {
        const v1::WorkUnitDefined& u = m.work_units().at({facility, id});
        v1::Element e;
        e.set_name(absl::StrCat("facilities/", facility, "/workUnits/", id));
        e.set_id(id);
        e.set_display_name(u.display_name());
        e.set_parent(absl::StrCat("facilities/", facility, "/workCenters/", u.work_center()));
        if (!add(id, std::move(e))) break;
      }
      break;
    }
    case ElementKind::kProduct:
      for (const auto& [id, product] : m.products()) {
        if (!add(id, ProductElement(id, product))) break;
      }
      break;
  }
  return out;
}

absl::StatusOr<v1::Element> GetElement(const model::EnterpriseModel& m, ElementKind kind, const std::string& name) {
  const std::vector<std::string> p = Parts(name);
  const char* prefix = kind == ElementKind::kRegion     ? "regions"
                       : kind == ElementKind::kFacility ? "facilities"
                                                        : "products";
  if (p.size() != 2 || p[0] != prefix) {
    return absl::InvalidArgumentError(absl::StrCat("name '", name.substr(0, 120), "' is not ", prefix, "/<id>"));
  }
  const std::string& id = p[1];
  TAKT_RETURN_IF_ERROR(ValidateId("name", id));
  switch (kind) {
    case ElementKind::kRegion: {
      auto it = m.regions().find(id);
      if (it == m.regions().end()) break;
      return RegionElement(id, it->second);
    }
    case ElementKind::kFacility: {
      auto it = m.facilities().find(id);
      if (it == m.facilities().end()) break;
      return FacilityElement(m, id, it->second);
    }
    case ElementKind::kProduct: {
      auto it = m.products().find(id);
      if (it == m.products().end()) break;
      return ProductElement(id, it->second);
    }
    default: return absl::InvalidArgumentError("only regions, facilities and products are got by name");
  }
  return absl::NotFoundError(absl::StrCat(name, " is not defined"));
}

}  // namespace takt::enterprise
