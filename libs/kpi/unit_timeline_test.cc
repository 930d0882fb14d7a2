#include "libs/kpi/unit_timeline.h"

#include <algorithm>
#include <random>

#include "gtest/gtest.h"

namespace takt::kpi {
namespace {

constexpr int64_t kMinute = 60'000'000;

class UnitTimelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cal = FacilityCalendar::Create({"America/Chicago", 6 * 60, {}});
    ASSERT_TRUE(cal.ok());
    calendar_ = std::make_unique<FacilityCalendar>(*cal);
  }
  absl::Time Local(int d, int h, int mi = 0) const {
    return absl::FromCivil(absl::CivilSecond(2026, 3, d, h, mi, 0), calendar_->zone());
  }
  std::unique_ptr<FacilityCalendar> calendar_;
};

TEST_F(UnitTimelineTest, IntervalsAreAttributedPerLocalHourWhenClosed) {
  UnitTimeline unit(calendar_.get());
  HourlyDelta total;
  Merge(total, unit.ChangeState(Local(2, 6), UnitState::kRunning));
  EXPECT_TRUE(total.empty());  // still open
  Merge(total, unit.ChangeState(Local(2, 8, 30), UnitState::kDown));
  Merge(total, unit.ChangeState(Local(2, 9), UnitState::kRunning));
  Merge(total, unit.ChangeState(Local(2, 10), UnitState::kIdle));
  ASSERT_EQ(total.size(), 4u);
  EXPECT_EQ(total[Local(2, 6)][Element::kApt], 60 * kMinute);
  EXPECT_EQ(total[Local(2, 8)][Element::kApt], 30 * kMinute);
  EXPECT_EQ(total[Local(2, 8)][Element::kAdet], 30 * kMinute);
  EXPECT_EQ(total[Local(2, 8)][Element::kTtr], 30 * kMinute);
  EXPECT_EQ(total[Local(2, 8)][Element::kFe], 1);
  EXPECT_EQ(total[Local(2, 8)][Element::kPbt], 60 * kMinute);
  EXPECT_EQ(total[Local(2, 9)][Element::kTbf], 60 * kMinute);
  EXPECT_EQ(total, unit.Totals());
}

TEST_F(UnitTimelineTest, ALateChangeReattributesOnlyItsStretch) {
  UnitTimeline unit(calendar_.get());
  unit.ChangeState(Local(2, 6), UnitState::kRunning);
  unit.ChangeState(Local(2, 14), UnitState::kIdle);
  // Hours later the gateway delivers a failure at 07:15. Until its repair
  // is known the unit counts as down up to the next known change (14:00).
  HourlyDelta late = unit.ChangeState(Local(2, 7, 15), UnitState::kDown);
  ASSERT_EQ(late.size(), 7u);  // 07:00 to 13:00
  EXPECT_EQ(late[Local(2, 7)][Element::kApt], -45 * kMinute);
  EXPECT_EQ(late[Local(2, 7)][Element::kAdet], 45 * kMinute);
  EXPECT_EQ(late[Local(2, 7)][Element::kFe], 1);
  EXPECT_EQ(late[Local(2, 7)][Element::kPbt], 0);
  EXPECT_EQ(late[Local(2, 13)][Element::kTtr], 60 * kMinute);
  // Then the repair at 07:45 arrives: together, only 07:00-08:00 changed.
  HourlyDelta net = late;
  Merge(net, unit.ChangeState(Local(2, 7, 45), UnitState::kRunning));
  ASSERT_EQ(net.size(), 1u);
  EXPECT_EQ(net[Local(2, 7)][Element::kApt], -30 * kMinute);
  EXPECT_EQ(net[Local(2, 7)][Element::kAdet], 30 * kMinute);
  EXPECT_EQ(net[Local(2, 7)][Element::kTtr], 30 * kMinute);
  EXPECT_EQ(net[Local(2, 7)][Element::kFe], 1);
}

TEST_F(UnitTimelineTest, ReplacingAChangeAtTheSameInstantCorrectsIt) {
  UnitTimeline unit(calendar_.get());
  unit.ChangeState(Local(2, 6), UnitState::kRunning);
  unit.ChangeState(Local(2, 7), UnitState::kDown);
  unit.ChangeState(Local(2, 8), UnitState::kRunning);
  HourlyDelta fix = unit.ChangeState(Local(2, 7), UnitState::kSetup);  // it was a changeover
  EXPECT_EQ(fix[Local(2, 7)][Element::kFe], -1);
  EXPECT_EQ(fix[Local(2, 7)][Element::kAust], 60 * kMinute);
  EXPECT_EQ(fix[Local(2, 7)][Element::kTtr], -60 * kMinute);
  EXPECT_EQ(unit.changes(), 3u);
}

TEST_F(UnitTimelineTest, CountsCarryPlannedRunTime) {
  UnitTimeline unit(calendar_.get());
  HourlyDelta d = unit.Count(Local(2, 9, 59), 90, 6, 4, absl::Seconds(30));
  ElementSums& e = d[Local(2, 9)];
  EXPECT_EQ(e[Element::kPq], 100);
  EXPECT_EQ(e[Element::kGq], 90);
  EXPECT_EQ(e[Element::kSq], 6);
  EXPECT_EQ(e[Element::kRq], 4);
  EXPECT_EQ(e[Element::kPriPq], 100 * 30'000'000LL);
  EXPECT_EQ(e[Element::kPriGq], 90 * 30'000'000LL);
}

// Any arrival order gives the same hourly sums as the sorted timeline,
// across the spring-forward night (2026-03-08 in Chicago).
TEST_F(UnitTimelineTest, SumsDoNotDependOnArrivalOrder) {
  std::mt19937_64 rng(7);
  std::vector<std::pair<absl::Time, UnitState>> changes;
  absl::Time t = Local(6, 6);
  for (int i = 0; i < 300; ++i) {
    t += absl::Minutes(1 + static_cast<int>(rng() % 90));
    changes.emplace_back(t, static_cast<UnitState>(rng() % 6));
  }
  UnitTimeline sorted(calendar_.get());
  for (const auto& [when, state] : changes) sorted.ChangeState(when, state);
  const HourlyDelta expected = sorted.Totals();
  ASSERT_GT(expected.size(), 48u);
  int64_t fe = 0;
  for (const auto& [hour, e] : expected) fe += e[Element::kFe];
  EXPECT_GT(fe, 10);
  for (int round = 0; round < 20; ++round) {
    std::shuffle(changes.begin(), changes.end(), rng);
    UnitTimeline unit(calendar_.get());
    HourlyDelta total;
    for (const auto& [when, state] : changes) Merge(total, unit.ChangeState(when, state));
    ASSERT_EQ(total, expected) << "round " << round;
  }
}

}  // namespace
}  // namespace takt::kpi

namespace takt::kpi {
namespace {

TEST(UnitTimelineReasonsTest, DowntimeByReasonIsExactUnderAnyArrivalOrder) {
  auto cal = FacilityCalendar::Create({"Europe/Berlin", 6 * 60, {}});
  ASSERT_TRUE(cal.ok());
  auto at = [&](int h, int m) {
    return absl::FromCivil(absl::CivilSecond(2026, 11, 24, h, m, 0), cal->zone());
  };
  struct C {
    absl::Time t;
    UnitState s;
    const char* reason;
  };
  std::vector<C> changes = {
      {at(6, 0), UnitState::kRunning, ""},       {at(7, 0), UnitState::kDown, "hydraulics"},
      {at(7, 40), UnitState::kRunning, ""},       {at(8, 50), UnitState::kDelayed, "jam"},
      {at(8, 55), UnitState::kDelayed, "hydraulics"}, {at(9, 20), UnitState::kRunning, ""},
      {at(10, 0), UnitState::kDown, "jam"},       {at(10, 10), UnitState::kIdle, ""},
  };
  std::mt19937 rng(1);
  for (int round = 0; round < 10; ++round) {
    std::shuffle(changes.begin(), changes.end(), rng);
    UnitTimeline unit(&*cal);
    ReasonDelta total;
    for (const C& c : changes) unit.ChangeState(c.t, c.s, c.reason, &total);
    std::map<std::string, ReasonSums> by_reason;
    for (const auto& [key, sums] : total) {
      by_reason[key.second].micros += sums.micros;
      by_reason[key.second].stoppages += sums.stoppages;
    }
    EXPECT_EQ(by_reason["hydraulics"].micros, (40 + 25) * 60'000'000LL);
    EXPECT_EQ(by_reason["hydraulics"].stoppages, 2);
    EXPECT_EQ(by_reason["jam"].micros, (5 + 10) * 60'000'000LL);
    EXPECT_EQ(by_reason["jam"].stoppages, 2);
    EXPECT_EQ(unit.ReasonTotals().size(), 5u) << "hour x reason rows";
  }
}

}  // namespace
}  // namespace takt::kpi

namespace takt::kpi {
namespace {

TEST(UnitTimelineOrdersTest, OrderExecutionTimeIsAttributedPerHourInAnyOrder) {
  auto cal = FacilityCalendar::Create({"UTC", 0, {}});
  ASSERT_TRUE(cal.ok());
  auto at = [](int h, int m) { return absl::FromCivil(absl::CivilSecond(2026, 11, 24, h, m, 0), absl::UTCTimeZone()); };
  std::vector<std::pair<absl::Time, bool>> changes = {
      {at(6, 30), true}, {at(8, 15), false}, {at(9, 0), true}, {at(9, 45), false}, {at(11, 0), true}};
  std::mt19937 rng(3);
  for (int round = 0; round < 10; ++round) {
    std::shuffle(changes.begin(), changes.end(), rng);
    UnitTimeline unit(&*cal);
    HourlyDelta total;
    for (const auto& [t, started] : changes) Merge(total, unit.OrderChange(t, started));
    int64_t aoet = 0;
    for (const auto& [hour, e] : total) aoet += e[Element::kAoet];
    EXPECT_EQ(aoet, (105 + 45) * 60'000'000LL);  // the 11:00 order is still running
    EXPECT_EQ(total[at(7, 0)][Element::kAoet], 60 * 60'000'000LL);
    EXPECT_EQ(total, unit.Totals());
  }
}

// Regression (issue 11.1): a change dated 1970 followed by one in 2026 made
// the fold walk every hour in between (480,000 of them; from year 1, the
// server grew by 450 MB/s). A state now holds for at most kMaxStateSpan:
// the cost of an event is bounded whatever the gap.
TEST_F(UnitTimelineTest, AGapCostsNoMoreThanTheLongestStateSpan) {
  for (absl::Time first : {absl::UnixEpoch(), absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0),
                                                              absl::UTCTimeZone())}) {
    UnitTimeline unit(calendar_.get());
    HourlyDelta total;
    Merge(total, unit.ChangeState(first, UnitState::kRunning, "", nullptr));
    Merge(total, unit.ChangeState(Local(2, 6), UnitState::kIdle));
    Merge(total, unit.ChangeState(Local(2, 7), UnitState::kRunning));
    EXPECT_LE(total.size(), static_cast<size_t>(absl::ToInt64Hours(kMaxStateSpan)) + 2);
    int64_t apt = 0;
    int64_t adot = 0;
    for (const auto& [hour, e] : total) {
      apt += e[Element::kApt];
      adot += e[Element::kAdot];
    }
    EXPECT_EQ(apt, absl::ToInt64Microseconds(kMaxStateSpan));
    EXPECT_EQ(adot, 60 * kMinute);
    // Orders likewise.
    HourlyDelta orders = unit.OrderChange(first, true);
    Merge(orders, unit.OrderChange(Local(2, 6), false));
    int64_t aoet = 0;
    for (const auto& [hour, e] : orders) aoet += e[Element::kAoet];
    EXPECT_EQ(aoet, absl::ToInt64Microseconds(kMaxStateSpan));
  }
}

}  // namespace
}  // namespace takt::kpi

namespace takt::kpi {
namespace {

// A sink like the projection's: one batch's sums, added into in place.
class SumsSink final : public DeltaSink {
 public:
  ElementSums& Hour(absl::Time hour) override { return hours[hour]; }
  ReasonSums* Reason(absl::Time hour, const std::string& reason) override {
    return &reasons[{hour, reason}];
  }
  // Without the entries that cancelled out.
  HourlyDelta NonZeroHours() const {
    HourlyDelta out;
    for (const auto& [hour, e] : hours) {
      if (!(e == ElementSums{})) out[hour] = e;
    }
    return out;
  }
  ReasonDelta NonZeroReasons() const {
    ReasonDelta out;
    for (const auto& [key, r] : reasons) {
      if (!(r == ReasonSums{})) out[key] = r;
    }
    return out;
  }
  HourlyDelta hours;
  ReasonDelta reasons;
};

// The projection folds through a sink (no map per event); what it adds up
// must be what the per-event deltas add up to, in any arrival order.
TEST(UnitTimelineSinkTest, ASinkAddsUpToTheSameSumsAsPerEventDeltas) {
  auto cal = FacilityCalendar::Create({"Europe/Berlin", 6 * 60, {}});
  ASSERT_TRUE(cal.ok());
  std::mt19937_64 rng(11);
  struct Obs {
    absl::Time t;
    int kind;  // 0 state, 1 order, 2 count
    UnitState state;
    std::string reason;
    bool started;
    int64_t good;
  };
  std::vector<Obs> all;
  // Across the spring-forward night (29 March 2026 in Berlin).
  absl::Time t = absl::FromCivil(absl::CivilSecond(2026, 3, 28, 6, 0, 0), cal->zone());
  const char* reasons[] = {"", "jam", "hydraulics"};
  for (int i = 0; i < 400; ++i) {
    t += absl::Minutes(1 + static_cast<int>(rng() % 50));
    const int kind = static_cast<int>(rng() % 3);
    all.push_back(Obs{t, kind, static_cast<UnitState>(rng() % 6), reasons[rng() % 3], rng() % 2 == 0,
                      static_cast<int64_t>(rng() % 100)});
  }
  HourlyDelta expected_hours;
  ReasonDelta expected_reasons;
  {
    UnitTimeline unit(&*cal);
    for (const Obs& o : all) {
      if (o.kind == 0) Merge(expected_hours, unit.ChangeState(o.t, o.state, o.reason, &expected_reasons));
      if (o.kind == 1) Merge(expected_hours, unit.OrderChange(o.t, o.started));
      if (o.kind == 2) Merge(expected_hours, unit.Count(o.t, o.good, 1, 2, absl::Seconds(3)));
    }
    for (auto it = expected_reasons.begin(); it != expected_reasons.end();) {
      it = it->second == ReasonSums{} ? expected_reasons.erase(it) : std::next(it);
    }
  }
  ASSERT_GT(expected_hours.size(), 100u);
  ASSERT_GT(expected_reasons.size(), 10u);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(all.begin(), all.end(), rng);
    UnitTimeline unit(&*cal);
    SumsSink sink;
    for (const Obs& o : all) {
      if (o.kind == 0) unit.ChangeState(o.t, o.state, o.reason, sink);
      if (o.kind == 1) unit.OrderChange(o.t, o.started, sink);
      if (o.kind == 2) unit.Count(o.t, o.good, 1, 2, absl::Seconds(3), sink);
    }
    EXPECT_EQ(sink.NonZeroHours(), expected_hours) << "round " << round;
    EXPECT_EQ(sink.NonZeroReasons(), expected_reasons) << "round " << round;
  }
}

}  // namespace
}  // namespace takt::kpi
