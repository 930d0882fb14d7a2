#include "libs/auth/access.h"

#include "gtest/gtest.h"

namespace takt::auth {
namespace {

// detroit-1 and toledo-2 are in region "na", berlin-1 in "emea", and
// lonely-1 in none.
std::optional<std::string> RegionOfTest(const std::string& facility) {
  if (facility == "detroit-1" || facility == "toledo-2") return "na";
  if (facility == "berlin-1") return "emea";
  return std::nullopt;
}

TEST(AccessTest, RoleNamesRoundTripAndUnknownRolesAreRefusedWithTheList) {
  for (Role r : kAllRoles) {
    auto parsed = ParseRole(RoleName(r));
    ASSERT_TRUE(parsed.ok()) << RoleName(r);
    EXPECT_EQ(*parsed, r);
  }
  auto bad = ParseRole("root");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("plant-manager"), std::string_view::npos) << bad.status();
}

TEST(AccessTest, ScopesParseAndRefuseBadNames) {
  EXPECT_EQ(*ParseScope("enterprise"), Scope::Enterprise());
  EXPECT_EQ(*ParseScope("regions/na"), Scope::Region("na"));
  EXPECT_EQ(*ParseScope("facilities/detroit-1"), Scope::Facility("detroit-1"));
  EXPECT_EQ(ParseScope("facilities/detroit-1").value().Name(), "facilities/detroit-1");
  for (const char* bad : {"", "Enterprise", "regions/", "facilities/../x", "plants/x", "regions/na/x"}) {
    EXPECT_EQ(ParseScope(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(AccessTest, OnlyTheListedRolesCarryEachPermission) {
  EXPECT_TRUE(RoleGrants(Role::kPlantManager, Permission::kOperate));
  EXPECT_FALSE(RoleGrants(Role::kPlantManager, Permission::kPersonalData));
  EXPECT_FALSE(RoleGrants(Role::kRegionalDirector, Permission::kOperate));
  EXPECT_TRUE(RoleGrants(Role::kAuditor, Permission::kAudit));
  EXPECT_FALSE(RoleGrants(Role::kAuditor, Permission::kOperate));
  EXPECT_FALSE(RoleGrants(Role::kAdministrator, Permission::kRead));
  // Personal data: the staffing administrator, nobody else.
  for (Role r : kAllRoles) {
    EXPECT_EQ(RoleGrants(r, Permission::kPersonalData), r == Role::kStaffingAdministrator) << RoleName(r);
  }
}

TEST(AccessTest, AScopeCoversItselfAndWhatItHoldsNothingElse) {
  const Scope na = Scope::Region("na");
  EXPECT_TRUE(Covers(na, Scope::Region("na"), RegionOfTest));
  EXPECT_TRUE(Covers(na, Scope::Facility("detroit-1"), RegionOfTest));
  EXPECT_FALSE(Covers(na, Scope::Facility("berlin-1"), RegionOfTest));
  EXPECT_FALSE(Covers(na, Scope::Facility("lonely-1"), RegionOfTest));
  EXPECT_FALSE(Covers(na, Scope::Region("emea"), RegionOfTest));
  EXPECT_FALSE(Covers(na, Scope::Enterprise(), RegionOfTest));
  const Scope detroit = Scope::Facility("detroit-1");
  EXPECT_TRUE(Covers(detroit, detroit, RegionOfTest));
  EXPECT_FALSE(Covers(detroit, Scope::Facility("toledo-2"), RegionOfTest));
  EXPECT_FALSE(Covers(detroit, Scope::Region("na"), RegionOfTest));
  for (const Scope& any : {Scope::Enterprise(), na, detroit, Scope::Facility("lonely-1")}) {
    EXPECT_TRUE(Covers(Scope::Enterprise(), any, RegionOfTest));
  }
}

TEST(AccessTest, BindingsGrantTheirRolesPermissionsInTheirScopeUntilRevoked) {
  AccessBindings access;
  const Binding alice{"alice", Role::kPlantManager, Scope::Facility("detroit-1")};
  const Binding bob{"bob@example.com", Role::kRegionalDirector, Scope::Region("na")};
  access.Grant(alice);
  access.Grant(alice);  // twice is once
  access.Grant(bob);
  EXPECT_EQ(access.All().size(), 2u);
  EXPECT_TRUE(access.Allows("alice", Permission::kOperate, Scope::Facility("detroit-1"), RegionOfTest));
  EXPECT_FALSE(access.Allows("alice", Permission::kOperate, Scope::Facility("toledo-2"), RegionOfTest));
  EXPECT_FALSE(access.Allows("alice", Permission::kRead, Scope::Region("na"), RegionOfTest));
  EXPECT_TRUE(access.Allows("bob@example.com", Permission::kRead, Scope::Facility("toledo-2"), RegionOfTest));
  EXPECT_FALSE(access.Allows("bob@example.com", Permission::kOperate, Scope::Facility("toledo-2"), RegionOfTest));
  EXPECT_FALSE(access.Allows("bob@example.com", Permission::kRead, Scope::Enterprise(), RegionOfTest));
  EXPECT_FALSE(access.Allows("carol", Permission::kRead, Scope::Facility("detroit-1"), RegionOfTest));
  // A subject is matched exactly, not by prefix.
  EXPECT_FALSE(access.Allows("alic", Permission::kRead, Scope::Facility("detroit-1"), RegionOfTest));
  // Somewhere (the product catalogue): any binding granting the permission.
  EXPECT_TRUE(access.AllowsSomewhere("alice", Permission::kRead));
  EXPECT_FALSE(access.AllowsSomewhere("bob@example.com", Permission::kOperate));
  EXPECT_FALSE(access.AllowsSomewhere("carol", Permission::kRead));
  access.Revoke(alice);
  EXPECT_FALSE(access.AllowsSomewhere("alice", Permission::kRead));
  EXPECT_FALSE(access.Allows("alice", Permission::kRead, Scope::Facility("detroit-1"), RegionOfTest));
  EXPECT_TRUE(access.Of("alice").empty());
  ASSERT_EQ(access.Of("bob@example.com").size(), 1u);
}

TEST(AccessTest, BadBindingsAreRefused) {
  EXPECT_EQ(AccessBindings::Check({"", Role::kAuditor, Scope::Enterprise()}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AccessBindings::Check({"alice/../root", Role::kAuditor, Scope::Enterprise()}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AccessBindings::Check({"alice", Role::kAdministrator, Scope::Region("na")}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(AccessBindings::Check({"alice", Role::kAdministrator, Scope::Enterprise()}).ok());
}

}  // namespace
}  // namespace takt::auth
