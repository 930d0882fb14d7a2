#include "services/enterprise/navigation.h"

#include "gtest/gtest.h"

namespace takt::enterprise {
namespace {

namespace ev1 = ::takt::enterprise::v1;

template <typename M>
void Add(model::EnterpriseModel& m, const M& message) {
  ASSERT_TRUE(m.Apply({message.GetDescriptor()->full_name(), message.SerializeAsString()}).ok());
}

// Regions emea and na; facilities b-1 (emea), d-1 and d-2 (na); d-1 has
// area body with work centers press and weld, units p1, p2 (press), w1.
model::EnterpriseModel Example() {
  model::EnterpriseModel m;
  for (const char* r : {"emea", "na"}) {
    ev1::RegionDefined d;
    d.set_region(r);
    d.set_display_name(std::string("Region ") + r);
    Add(m, d);
  }
  for (auto [f, r] : {std::pair{"b-1", "emea"}, {"d-1", "na"}, {"d-2", "na"}}) {
    ev1::FacilityDefined d;
    d.set_facility(f);
    d.set_display_name(std::string("Plant ") + f);
    d.mutable_calendar()->set_time_zone("UTC");
    d.mutable_calendar()->set_day_start("06:00");
    Add(m, d);
    ev1::FacilityMoved mv;
    mv.set_facility(f);
    mv.set_region(r);
    mv.set_effective_from("2000-01-01");
    Add(m, mv);
  }
  ev1::AreaDefined area;
  area.set_facility("d-1");
  area.set_area("body");
  Add(m, area);
  for (const char* wc : {"press", "weld"}) {
    ev1::WorkCenterDefined w;
    w.set_facility("d-1");
    w.set_area("body");
    w.set_work_center(wc);
    Add(m, w);
  }
  for (auto [u, wc] : {std::pair{"p1", "press"}, {"p2", "press"}, {"w1", "weld"}}) {
    ev1::WorkUnitDefined d;
    d.set_facility("d-1");
    d.set_work_center(wc);
    d.set_work_unit(u);
    Add(m, d);
  }
  return m;
}

std::vector<std::string> Names(const v1::ListElementsResponse& r) {
  std::vector<std::string> out;
  for (const auto& e : r.elements()) out.push_back(e.name());
  return out;
}

TEST(NavigationTest, FacilitiesArePagedByIdAndFilteredByRegion) {
  const model::EnterpriseModel m = Example();
  v1::ListElementsRequest r;
  r.set_page_size(2);
  auto page = ListElements(m, ElementKind::kFacility, r);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(Names(*page), (std::vector<std::string>{"facilities/b-1", "facilities/d-1"}));
  EXPECT_EQ(page->elements(0).parent(), "regions/emea");
  EXPECT_EQ(page->elements(0).display_name(), "Plant b-1");
  ASSERT_EQ(page->next_page_token(), "d-1");
  r.set_page_token(page->next_page_token());
  page = ListElements(m, ElementKind::kFacility, r);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Names(*page), std::vector<std::string>{"facilities/d-2"});
  EXPECT_EQ(page->next_page_token(), "");
  r.Clear();
  r.set_parent("regions/na");
  page = ListElements(m, ElementKind::kFacility, r);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Names(*page), (std::vector<std::string>{"facilities/d-1", "facilities/d-2"}));
}

TEST(NavigationTest, AFacilityIsWalkedDownToItsUnits) {
  const model::EnterpriseModel m = Example();
  v1::ListElementsRequest r;
  r.set_parent("facilities/d-1");
  auto areas = ListElements(m, ElementKind::kArea, r);
  ASSERT_TRUE(areas.ok());
  EXPECT_EQ(Names(*areas), std::vector<std::string>{"facilities/d-1/areas/body"});
  r.set_parent("facilities/d-1/areas/body");
  auto wcs = ListElements(m, ElementKind::kWorkCenter, r);
  ASSERT_TRUE(wcs.ok());
  EXPECT_EQ(Names(*wcs), (std::vector<std::string>{"facilities/d-1/workCenters/press", "facilities/d-1/workCenters/weld"}));
  r.set_parent("facilities/d-1/workCenters/press");
  auto units = ListElements(m, ElementKind::kWorkUnit, r);
  ASSERT_TRUE(units.ok());
  EXPECT_EQ(Names(*units), (std::vector<std::string>{"facilities/d-1/workUnits/p1", "facilities/d-1/workUnits/p2"}));
  EXPECT_EQ(units->elements(0).parent(), "facilities/d-1/workCenters/press");
  auto got = GetElement(m, ElementKind::kFacility, "facilities/d-2");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->parent(), "regions/na");
  EXPECT_EQ(got->time_zone(), "UTC");
}

TEST(NavigationTest, BadParentsNamesAndPagesAreRefused) {
  const model::EnterpriseModel m = Example();
  struct Case {
    ElementKind kind;
    std::string parent;
    int page_size;
    std::string token;
    absl::StatusCode code;
  };
  for (const Case& c : std::vector<Case>{
           {ElementKind::kArea, "", 0, "", absl::StatusCode::kInvalidArgument},
           {ElementKind::kArea, "regions/na", 0, "", absl::StatusCode::kInvalidArgument},
           {ElementKind::kRegion, "regions/na", 0, "", absl::StatusCode::kInvalidArgument},
           {ElementKind::kFacility, "regions/mars", 0, "", absl::StatusCode::kNotFound},
           {ElementKind::kWorkUnit, "facilities/x-9", 0, "", absl::StatusCode::kNotFound},
           {ElementKind::kWorkUnit, "facilities/d-1/workCenters/nope", 0, "", absl::StatusCode::kNotFound},
           {ElementKind::kWorkUnit, "facilities/d-1/lines/press", 0, "", absl::StatusCode::kInvalidArgument},
           {ElementKind::kFacility, "", 1001, "", absl::StatusCode::kInvalidArgument},
           {ElementKind::kFacility, "", -1, "", absl::StatusCode::kInvalidArgument},
           {ElementKind::kFacility, "", 0, "../x", absl::StatusCode::kInvalidArgument},
       }) {
    v1::ListElementsRequest r;
    r.set_parent(c.parent);
    r.set_page_size(c.page_size);
    r.set_page_token(c.token);
    EXPECT_EQ(ListElements(m, c.kind, r).status().code(), c.code) << c.parent << " " << c.page_size;
  }
  EXPECT_EQ(GetElement(m, ElementKind::kFacility, "facilities/zz").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetElement(m, ElementKind::kFacility, "regions/na").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetElement(m, ElementKind::kRegion, "regions/na/x").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace takt::enterprise
