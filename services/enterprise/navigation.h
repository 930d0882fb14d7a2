// File: navigation.h
// -----------------------------------------------------------------------------
// The enterprise as clients navigate it (ListRegions, GetFacility,
// ListWorkUnits, ...): pure functions of the enterprise model, so that a
// dashboard can walk enterprise -> region -> plant -> line. Lists are by id,
// paged (AIP-158): page_size 1 to 1000 (0: 50), the page token is the last
// id returned, so a page stays stable while elements are added.
#ifndef TAKT_SERVICES_ENTERPRISE_NAVIGATION_H_
#define TAKT_SERVICES_ENTERPRISE_NAVIGATION_H_

#include "absl/status/statusor.h"
#include "libs/auth/access.h"
#include "libs/model/enterprise_model.h"
#include "takt/enterprise/v1/enterprise_service.pb.h"

namespace takt::enterprise {

enum class ElementKind { kRegion, kFacility, kArea, kWorkCenter, kWorkUnit, kProduct };

// One page of the elements of `kind` under request.parent (navigation.h's
// parents per kind, as in the .proto). INVALID_ARGUMENT for a parent of the
// wrong kind, a bad page size or token; NOT_FOUND for a parent not defined.
absl::StatusOr<v1::ListElementsResponse> ListElements(const model::EnterpriseModel& model, ElementKind kind,
                                                      const v1::ListElementsRequest& request);

// One element by name ("regions/R", "facilities/F", "products/P").
absl::StatusOr<v1::Element> GetElement(const model::EnterpriseModel& model, ElementKind kind,
                                       const std::string& name);

// The scope whose read permission a list or get needs: its parent's
// facility or region, else the enterprise. (A name that does not parse is
// the enterprise: only callers allowed everywhere pass, then the list
// refuses the name.)
auth::Scope AccessScopeOfParent(ElementKind kind, const std::string& parent_or_name);

}  // namespace takt::enterprise

#endif  // TAKT_SERVICES_ENTERPRISE_NAVIGATION_H_
