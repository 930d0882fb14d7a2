#include "services/quality/quality_book.h"

#include "gtest/gtest.h"

namespace takt::quality {
namespace {

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2026, 3, 2, 8, 0, 0), absl::UTCTimeZone());

class NcrTest : public ::testing::Test {
 protected:
  // Decides and applies; returns the status of the decision.
  absl::Status Do(const v1::NcrCommand& c, absl::Time at = kNow) {
    auto events = DecideNcr(book_, c, at, "ncr-1");
    if (!events.ok()) return events.status();
    for (const auto& e : *events) {
      absl::Status s = book_.Apply(e);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
  v1::NcrCommand Raise() {
    v1::NcrCommand c;
    c.mutable_raise()->set_description("bore oversize on lot 42");
    c.mutable_raise()->set_quantity(12);
    return c;
  }
  v1::NcrCommand Disposition(v1::Disposition d = v1::REWORK) {
    v1::NcrCommand c;
    c.mutable_disposition()->set_ncr_id("ncr-1");
    c.mutable_disposition()->set_disposition(d);
    c.mutable_disposition()->set_reason("re-bore to size");
    return c;
  }
  v1::NcrCommand Cause() {
    v1::NcrCommand c;
    c.mutable_root_cause()->set_ncr_id("ncr-1");
    c.mutable_root_cause()->set_cause("worn boring bar");
    return c;
  }
  v1::NcrCommand Action(const std::string& id, v1::ActionKind kind = v1::CORRECTIVE,
                        const std::string& due = "2026-03-09") {
    v1::NcrCommand c;
    auto* a = c.mutable_add_action();
    a->set_ncr_id("ncr-1");
    a->set_action_id(id);
    a->set_kind(kind);
    a->set_owner("j.meyer");
    a->set_due(due);
    a->set_description("replace bar, add tool-life counter");
    return c;
  }
  v1::NcrCommand Complete(const std::string& id) {
    v1::NcrCommand c;
    c.mutable_complete_action()->set_ncr_id("ncr-1");
    c.mutable_complete_action()->set_action_id(id);
    return c;
  }
  v1::NcrCommand Check(bool effective) {
    v1::NcrCommand c;
    c.mutable_check()->set_ncr_id("ncr-1");
    c.mutable_check()->set_effective(effective);
    c.mutable_check()->set_note("30 subgroups in control");
    return c;
  }
  v1::NcrCommand Close() {
    v1::NcrCommand c;
    c.mutable_close()->set_ncr_id("ncr-1");
    c.mutable_close()->set_reason("verified");
    return c;
  }
  v1::NcrCommand Reopen() {
    v1::NcrCommand c;
    c.mutable_reopen()->set_ncr_id("ncr-1");
    c.mutable_reopen()->set_reason("recurred on lot 51");
    return c;
  }
  QualityBook book_;
};

TEST_F(NcrTest, TheWholeWayToClosureAndBack) {
  ASSERT_TRUE(Do(Raise()).ok());
  ASSERT_TRUE(Do(Disposition()).ok());
  ASSERT_TRUE(Do(Cause()).ok());
  ASSERT_TRUE(Do(Action("a1")).ok());
  ASSERT_TRUE(Do(Action("a2", v1::PREVENTIVE)).ok());
  ASSERT_TRUE(Do(Complete("a1"), kNow + absl::Hours(24)).ok());
  ASSERT_TRUE(Do(Complete("a2"), kNow + absl::Hours(24 * 10)).ok());  // after its due day
  ASSERT_TRUE(Do(Check(true)).ok());
  auto closed = DecideNcr(book_, Close(), kNow + absl::Hours(24 * 12), "");
  ASSERT_TRUE(closed.ok()) << closed.status();
  v1::NcrClosed e;
  ASSERT_TRUE(e.ParseFromString((*closed)[0].payload));
  EXPECT_EQ(e.open_us(), absl::ToInt64Microseconds(absl::Hours(24 * 12)));
  ASSERT_TRUE(book_.Apply((*closed)[0]).ok());
  EXPECT_TRUE(book_.FindNcr("ncr-1")->closed);
  // Reopened, it needs a new effective check before it closes again.
  ASSERT_TRUE(Do(Reopen()).ok());
  EXPECT_EQ(Do(Close()).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Do(Check(true)).ok());
  EXPECT_TRUE(Do(Close()).ok());
  EXPECT_EQ(book_.FindNcr("ncr-1")->reopened, 1u);
}

TEST_F(NcrTest, ActionsRecordWhetherTheyWereOnTime) {
  ASSERT_TRUE(Do(Raise()).ok());
  ASSERT_TRUE(Do(Cause()).ok());
  ASSERT_TRUE(Do(Action("a1", v1::CORRECTIVE, "2026-03-03")).ok());
  ASSERT_TRUE(Do(Action("a2", v1::CORRECTIVE, "2026-03-03")).ok());
  auto on_time = DecideNcr(book_, Complete("a1"), kNow + absl::Hours(30), "");
  auto late = DecideNcr(book_, Complete("a2"), kNow + absl::Hours(48), "");
  v1::CapaActionCompleted a, b;
  ASSERT_TRUE(a.ParseFromString((*on_time)[0].payload) && b.ParseFromString((*late)[0].payload));
  EXPECT_TRUE(a.on_time());
  EXPECT_FALSE(b.on_time());
}

TEST_F(NcrTest, EveryIllegalStepIsRefused) {
  EXPECT_EQ(Do(Disposition()).code(), absl::StatusCode::kNotFound);  // no such NCR
  v1::NcrCommand no_text = Raise();
  no_text.mutable_raise()->clear_description();
  EXPECT_EQ(Do(no_text).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Do(v1::NcrCommand()).code(), absl::StatusCode::kInvalidArgument);
  v1::NcrCommand spoofed = Raise();
  spoofed.mutable_raise()->set_source_sequence(42);  // claims a stream signal
  EXPECT_EQ(Do(spoofed).code(), absl::StatusCode::kInvalidArgument);
  spoofed = Raise();
  spoofed.mutable_raise()->set_ncr_id("ncr-s42");
  EXPECT_EQ(Do(spoofed).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(Do(Raise()).ok());
  EXPECT_EQ(Do(Raise()).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Do(Action("a1")).code(), absl::StatusCode::kFailedPrecondition);  // before root cause
  EXPECT_EQ(Do(Check(true)).code(), absl::StatusCode::kFailedPrecondition);   // no actions
  EXPECT_EQ(Do(Close()).code(), absl::StatusCode::kFailedPrecondition);       // nothing done
  EXPECT_EQ(Do(Reopen()).code(), absl::StatusCode::kFailedPrecondition);      // it is open
  EXPECT_EQ(Do(Disposition(v1::DISPOSITION_UNSPECIFIED)).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(Do(Cause()).ok());
  EXPECT_EQ(Do(Action("a1", v1::CORRECTIVE, "2020-01-01")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Do(Action("a1", v1::ACTION_KIND_UNSPECIFIED)).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(Do(Action("p1", v1::PREVENTIVE)).ok());
  EXPECT_EQ(Do(Action("p1")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Do(Complete("zz")).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Do(Check(true)).code(), absl::StatusCode::kFailedPrecondition);  // p1 not done
  ASSERT_TRUE(Do(Complete("p1")).ok());
  EXPECT_EQ(Do(Complete("p1")).code(), absl::StatusCode::kFailedPrecondition);  // twice
  ASSERT_TRUE(Do(Check(true)).ok());
  ASSERT_TRUE(Do(Disposition()).ok());
  // Only a preventive action: no closure.
  EXPECT_EQ(Do(Close()).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Do(Action("c1")).ok());  // a new action voids the check
  ASSERT_TRUE(Do(Complete("c1")).ok());
  EXPECT_EQ(Do(Close()).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Do(Check(false)).ok());  // found ineffective
  EXPECT_EQ(Do(Close()).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Do(Check(true)).ok());
  ASSERT_TRUE(Do(Close()).ok());
  // Closed: nothing but reopening.
  EXPECT_EQ(Do(Cause()).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Do(Close()).code(), absl::StatusCode::kFailedPrecondition);
  v1::NcrCommand no_reason = Reopen();
  no_reason.mutable_reopen()->clear_reason();
  EXPECT_EQ(Do(no_reason).code(), absl::StatusCode::kInvalidArgument);
}

v1::Plan BorePlan() {
  v1::Plan p;
  p.set_plan_id("housing-op20");
  p.set_product("housing");
  p.set_work_unit("cnc-1");
  p.set_effective_from("2026-01-01");
  auto* c = p.add_characteristics();
  c->set_id("bore-dia");
  c->set_chart(v1::XBAR_R);
  c->set_nominal(10);
  c->set_lower_spec(9.95);
  c->set_upper_spec(10.05);
  c->set_unit("mm");
  c->set_subgroup_size(5);
  c->set_resolution(0.001);
  return p;
}

absl::Status Apply(QualityBook& book, const v1::Plan& plan) {
  auto events = DecidePlan(book, plan, [](const std::string& u) { return u == "cnc-1"; });
  if (!events.ok()) return events.status();
  for (const auto& e : *events) {
    if (absl::Status s = book.Apply(e); !s.ok()) return s;
  }
  return absl::OkStatus();
}

TEST(Plans, VersionsTakeEffectByDay) {
  QualityBook book;
  ASSERT_TRUE(Apply(book, BorePlan()).ok());
  auto same = DecidePlan(book, BorePlan(), [](const std::string&) { return true; });
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->empty());  // unchanged
  v1::Plan tighter = BorePlan();
  tighter.set_effective_from("2026-02-01");
  tighter.mutable_characteristics(0)->set_upper_spec(10.04);
  ASSERT_TRUE(Apply(book, tighter).ok());
  EXPECT_DOUBLE_EQ(book.Find("bore-dia", absl::CivilDay(2026, 1, 15))->characteristic->upper_spec(), 10.05);
  EXPECT_DOUBLE_EQ(book.Find("bore-dia", absl::CivilDay(2026, 2, 1))->characteristic->upper_spec(), 10.04);
  EXPECT_EQ(book.Find("bore-dia", absl::CivilDay(2026, 2, 1))->plan->version(), 2u);
  EXPECT_FALSE(book.Find("bore-dia", absl::CivilDay(2025, 12, 31)));
  v1::Plan backdated = tighter;
  backdated.set_effective_from("2026-01-15");
  backdated.mutable_characteristics(0)->set_upper_spec(10.03);
  EXPECT_EQ(Apply(book, backdated).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Plans, ANewVersionKeepsWhatHistoryIsChartedIn) {
  QualityBook book;
  ASSERT_TRUE(Apply(book, BorePlan()).ok());
  v1::Plan n4 = BorePlan();
  n4.set_effective_from("2026-03-01");
  n4.mutable_characteristics(0)->set_subgroup_size(4);
  EXPECT_EQ(Apply(book, n4).code(), absl::StatusCode::kFailedPrecondition);
  v1::Plan finer = BorePlan();
  finer.set_effective_from("2026-03-01");
  finer.mutable_characteristics(0)->set_resolution(0.0005);
  EXPECT_EQ(Apply(book, finer).code(), absl::StatusCode::kFailedPrecondition);
  v1::Plan rules = BorePlan();  // limits and rules may change
  rules.set_effective_from("2026-03-01");
  rules.mutable_characteristics(0)->add_extra_rules(5);
  rules.mutable_characteristics(0)->set_upper_spec(10.04);
  EXPECT_TRUE(Apply(book, rules).ok());
}

TEST(Plans, DefectCodesAreUnchangedWhenTheSame) {
  QualityBook book;
  v1::DefectCodeDefined code;
  code.set_code("SCRATCH");
  code.set_severity("minor");
  auto first = DecideDefectCode(book, code);
  ASSERT_TRUE(first.ok() && first->size() == 1);
  ASSERT_TRUE(book.Apply((*first)[0]).ok());
  EXPECT_TRUE(DecideDefectCode(book, code)->empty());
  code.set_severity("major");
  EXPECT_EQ(DecideDefectCode(book, code)->size(), 1u);
  code.set_severity("fatal");
  EXPECT_FALSE(DecideDefectCode(book, code).ok());
}

TEST(Plans, BadCharacteristicsAreRefusedNamingTheField) {
  QualityBook book;
  auto refused = [&](auto change) {
    v1::Plan p = BorePlan();
    change(*p.mutable_characteristics(0));
    return Apply(book, p);
  };
  EXPECT_FALSE(refused([](v1::Characteristic& c) { c.set_lower_spec(10.1); }).ok());
  EXPECT_FALSE(refused([](v1::Characteristic& c) { c.set_nominal(11); }).ok());
  EXPECT_FALSE(refused([](v1::Characteristic& c) { c.set_subgroup_size(1); }).ok());
  EXPECT_FALSE(refused([](v1::Characteristic& c) { c.set_subgroup_size(26); }).ok());
  EXPECT_FALSE(refused([](v1::Characteristic& c) { c.set_resolution(0); }).ok());
  EXPECT_FALSE(refused([](v1::Characteristic& c) { c.set_resolution(1e-9); }).ok());
  EXPECT_FALSE(refused([](v1::Characteristic& c) { c.set_nominal(std::nan("")); }).ok());
  EXPECT_FALSE(refused([](v1::Characteristic& c) { c.add_extra_rules(4); }).ok());
  EXPECT_FALSE(refused([](v1::Characteristic& c) { c.set_chart(v1::CHART_TYPE_UNSPECIFIED); }).ok());
  EXPECT_FALSE(refused([](v1::Characteristic& c) { c.set_id("../etc"); }).ok());
  EXPECT_FALSE(refused([](v1::Characteristic& c) { c.clear_unit(); }).ok());
  auto missing_code = refused([](v1::Characteristic& c) {
    c.set_chart(v1::P);
    c.add_defect_codes("SCRATCH");
  });
  EXPECT_EQ(missing_code.code(), absl::StatusCode::kNotFound);
  v1::Plan ghost = BorePlan();
  ghost.set_work_unit("ghost");
  EXPECT_EQ(Apply(book, ghost).code(), absl::StatusCode::kNotFound);
  // One id, one characteristic: another plan cannot take it.
  ASSERT_TRUE(Apply(book, BorePlan()).ok());
  v1::Plan other = BorePlan();
  other.set_plan_id("other");
  EXPECT_EQ(Apply(book, other).code(), absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace takt::quality
