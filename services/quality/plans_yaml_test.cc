#include "services/quality/plans_yaml.h"

#include "gtest/gtest.h"

namespace takt::quality {
namespace {

TEST(PlansYaml, ReadsAPlanFile) {
  auto r = PlansFromYaml(R"(facility: detroit
defect_codes:
  - {code: SCRATCH, description: Surface scratch, severity: minor}
plans:
  - plan_id: housing-op20
    product: housing
    work_unit: detroit-cnc-1
    effective_from: 2026-01-01
    characteristics:
      - {id: bore-dia, chart: XBAR_R, nominal: 10.0, lower_spec: 9.95, upper_spec: 10.05,
         unit: mm, subgroup_size: 5, resolution: 0.001, extra_rules: [5, 6], ncr_on_violation: true}
      - {id: finish, chart: P, defect_codes: [SCRATCH], opportunities_per_unit: 4}
)");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->facility(), "detroit");
  ASSERT_EQ(r->plans_size(), 1);
  const auto& c = r->plans(0).characteristics(0);
  EXPECT_EQ(c.chart(), v1::XBAR_R);
  EXPECT_DOUBLE_EQ(c.upper_spec(), 10.05);
  EXPECT_EQ(c.subgroup_size(), 5u);
  EXPECT_TRUE(c.ncr_on_violation());
  EXPECT_EQ(r->plans(0).effective_from(), "2026-01-01");
  EXPECT_EQ(r->plans(0).characteristics(1).defect_codes(0), "SCRATCH");
}

TEST(PlansYaml, UnknownKeysBadEnumsAndSyntaxAreRefusedWithTheirPlace) {
  auto typo = PlansFromYaml("facility: detroit\nplans:\n  - plan_id: p\n    charcteristics: []\n");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("line 3"), std::string::npos) << typo.status();
  EXPECT_NE(typo.status().message().find("charcteristics"), std::string::npos) << typo.status();
  auto chart = PlansFromYaml(
      "facility: d\nplans:\n  - plan_id: p\n    characteristics: [{id: c, chart: XBAR_Q}]\n");
  ASSERT_FALSE(chart.ok());
  EXPECT_NE(chart.status().message().find("XBAR_Q"), std::string::npos) << chart.status();
  auto syntax = PlansFromYaml("facility: [d\n");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.status().message().find("line"), std::string::npos);
  auto twice = PlansFromYaml("facility: a\nfacility: b\n");
  EXPECT_FALSE(twice.ok());
  EXPECT_FALSE(PlansFromYaml("- a\n- b\n").ok());
}

}  // namespace
}  // namespace takt::quality
