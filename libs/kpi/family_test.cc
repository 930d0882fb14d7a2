#include "libs/kpi/family.h"

#include "gtest/gtest.h"

namespace takt::kpi {
namespace {

class CountingFold final : public Fold {
 public:
  absl::Status Apply(const eventlog::v1::Envelope&, std::vector<FamilyDelta>&) override {
    return absl::OkStatus();
  }
};

FamilyRegistration Registration(const std::string& name) {
  FamilyRegistration r;
  r.context = "test";
  r.family = {name, {{"INSPECTED", false}, {"PASSED", false}}};
  r.kpis = {{name + "_pass_rate", "Pass rate", "%", Better::kHigher, "test", "PASSED / INSPECTED",
             {{std::vector<int>{1}, std::vector<int>{0}}}, 100.0, name}};
  r.fold = [] { return std::make_unique<CountingFold>(); };
  return r;
}

TEST(FamilyTest, RegisteredKpisAreFoundAndEvaluatedOverTheFamilysValues) {
  ASSERT_TRUE(RegisterFamily(Registration("fam_a")).ok());
  const KpiDef* k = FindKpi("fam_a_pass_rate");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->family, "fam_a");
  EXPECT_DOUBLE_EQ(*Evaluate(*k, Values{200, 150}), 75.0);
  EXPECT_FALSE(Evaluate(*k, Values{0, 0}).has_value()) << "no data is not 0 %";
  ASSERT_NE(FindFamily("fam_a"), nullptr);
  EXPECT_EQ(FindFamily("fam_a")->family.elements.size(), 2u);
  // Production KPIs are unchanged.
  EXPECT_EQ(FindKpi("oee")->family, "production");
}

TEST(FamilyTest, BadRegistrationsAreRefusedNamingWhat) {
  auto twice = Registration("fam_b");
  ASSERT_TRUE(RegisterFamily(twice).ok());
  EXPECT_EQ(RegisterFamily(Registration("fam_b")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(RegisterFamily(Registration("production")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RegisterFamily(Registration("Bad-Name")).code(), absl::StatusCode::kInvalidArgument);
  auto out_of_range = Registration("fam_c");
  out_of_range.kpis[0].factors[0].numerator = {5};
  absl::Status s = RegisterFamily(out_of_range);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("element 5"), std::string::npos) << s;
  auto taken = Registration("fam_d");
  taken.kpis[0].id = "oee";
  EXPECT_EQ(RegisterFamily(taken).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(FindFamily("fam_d"), nullptr);
}

TEST(FamilyTest, SumsAreOverflowChecked) {
  Values v{std::numeric_limits<int64_t>::max(), 1};
  AddInto(v, Values{1, 2});
  EXPECT_EQ(v[0], kOverflowed);
  EXPECT_EQ(v[1], 3);
  AddInto(v, Values{-5});
  EXPECT_EQ(v[0], kOverflowed) << "an overflowed sum stays so";
}

}  // namespace
}  // namespace takt::kpi
