#include "services/rollups/family_projection.h"

#include "gtest/gtest.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/testing/inspection_fold.h"
#include "libs/testing/temp_dir.h"

namespace takt::rollup {
namespace {

const kpi::FamilyRegistration* QaFamily() {
  static const kpi::FamilyRegistration* family = [] {
    // Context "qa": events "unit,inspected,passed" (libs/testing/inspection_fold.h).
    EXPECT_TRUE(kpi::RegisterFamily(testing::InspectionFamily("qa", "qa_inspections")).ok());
    return kpi::FindFamily("qa_inspections");
  }();
  return family;
}

class FamilyProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    eventlog::EmbeddedLogOptions o;
    o.data_dir = log_dir_.path();
    log_ = *eventlog::OpenEmbeddedLog(o);
    calendar_ = std::make_unique<kpi::FacilityCalendar>(
        *kpi::FacilityCalendar::Create({"Europe/Berlin", 6 * 60, {}}));
  }
  CalendarLookup Calendars() {
    return [this](const std::string& f) { return f == "plant-1" ? calendar_.get() : nullptr; };
  }
  // An inspection at local time `hour`:`minute` on 2026-03-02.
  void Inspect(const std::string& facility, const std::string& unit, int hour, int minute,
               int inspected, int passed) {
    eventlog::AppendRequest r;
    r.context = "qa";
    r.facility = facility;
    eventlog::Envelope e;
    e.set_event_type("test.Inspected");
    e.set_source_id("gauge");
    e.set_source_sequence(++seq_);
    *e.mutable_occurred_time() = ToProto(absl::FromCivil(absl::CivilMinute(2026, 3, 2, hour, minute),
                                                         calendar_->zone()));
    e.set_payload(absl::StrCat(unit, ",", inspected, ",", passed));
    r.events.push_back(e);
    ASSERT_TRUE(log_->Append(std::move(r)).ok());
  }
  absl::Time Local(int hour) {
    return absl::FromCivil(absl::CivilHour(2026, 3, 2, hour), calendar_->zone());
  }

  testing::TempDir log_dir_, store_dir_, rebuild_dir_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<kpi::FacilityCalendar> calendar_;
  uint64_t seq_ = 0;
};

TEST_F(FamilyProjectionTest, EventsBecomeHourlyFamilyRowsWithTheirOwnCursor) {
  Inspect("plant-1", "u1", 9, 10, 100, 90);
  Inspect("plant-1", "u1", 9, 50, 50, 50);
  Inspect("plant-1", "u2", 11, 0, 10, 5);
  auto store = *RollupStore::Open(store_dir_.path());
  FamilyProjection p(log_.get(), store.get(), QaFamily(), Calendars());
  ASSERT_TRUE(p.Start().ok());
  ASSERT_EQ(*p.Step(absl::Milliseconds(100)), 3u);
  const kpi::Family& f = QaFamily()->family;
  EXPECT_EQ(*store->SumFamily(f, "plant-1", "u1", Local(9), Local(10)), (kpi::Values{150, 140}));
  EXPECT_EQ(*store->SumFamily(f, "plant-1", "", Local(0), Local(23)), (kpi::Values{160, 145}));
  auto days = *store->FamilyDays(f, "plant-1", absl::CivilDay(2026, 3, 2), absl::CivilDay(2026, 3, 2));
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days.begin()->second, (kpi::Values{160, 145}));
  // Its own cursor; production's is untouched (no rows, no cursor).
  EXPECT_EQ(store->LoadCursor("qa#qa_inspections")->size(), 1u);
  EXPECT_TRUE(store->LoadCursor("qa")->empty());
  EXPECT_TRUE(store->DumpUnitHours()->empty()) << "production rows are not the family's";
  // A restart resumes at the cursor: nothing applied twice.
  Inspect("plant-1", "u1", 9, 55, 1, 1);
  FamilyProjection again(log_.get(), store.get(), QaFamily(), Calendars());
  ASSERT_TRUE(again.Start().ok());
  ASSERT_EQ(*again.Step(absl::Milliseconds(100)), 1u);
  EXPECT_EQ(*store->SumFamily(f, "plant-1", "u1", Local(9), Local(10)), (kpi::Values{151, 141}));
  // A rebuild from the log gives the same rows.
  auto rebuilt = *RollupStore::Open(rebuild_dir_.path());
  FamilyProjection r(log_.get(), rebuilt.get(), QaFamily(), Calendars());
  ASSERT_TRUE(r.Start().ok());
  ASSERT_EQ(*r.Step(absl::Milliseconds(100)), 4u);
  EXPECT_EQ(*rebuilt->FamilyHours(f, "plant-1", "u1", Local(0), Local(23)),
            *store->FamilyHours(f, "plant-1", "u1", Local(0), Local(23)));
}

// Issue 12.2: a facility whose zone this machine cannot load is parked
// (its deltas dropped, other facilities go on) and the family is rebuilt,
// alone, once the zone loads.
TEST_F(FamilyProjectionTest, AFacilityWhoseZoneIsMissingIsParkedThenTheFamilyRebuilt) {
  bool mars_loads = false;
  CalendarLookup calendars = [&](const std::string& f) -> const kpi::FacilityCalendar* {
    return f == "plant-1" || (f == "mars-1" && mars_loads) ? calendar_.get() : nullptr;
  };
  ZoneMissing missing = [&](const std::string& f) { return f == "mars-1" && !mars_loads; };
  Inspect("plant-1", "u1", 9, 10, 100, 90);
  Inspect("mars-1", "u1", 9, 20, 40, 30);
  Inspect("plant-1", "u1", 10, 0, 10, 10);
  auto store = *RollupStore::Open(store_dir_.path());
  const kpi::Family& f = QaFamily()->family;
  {
    FamilyProjection p(log_.get(), store.get(), QaFamily(), calendars, 20000, missing);
    ASSERT_TRUE(p.Start().ok());
    auto n = p.Step(absl::Milliseconds(100));
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(*n, 3u);
    EXPECT_EQ(*store->SumFamily(f, "plant-1", "", Local(0), Local(23)), (kpi::Values{110, 100}));
    EXPECT_EQ(*store->Parked("qa#qa_inspections"), std::set<std::string>{"mars-1"});
    EXPECT_TRUE(store->Parked("qa")->empty());  // production's are its own
  }
  mars_loads = true;
  FamilyProjection p(log_.get(), store.get(), QaFamily(), calendars, 20000, missing);
  ASSERT_TRUE(p.Start().ok());
  auto n = p.Step(absl::Milliseconds(100));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 3u);  // from the start of the log again
  EXPECT_EQ(*store->SumFamily(f, "plant-1", "", Local(0), Local(23)), (kpi::Values{110, 100}));  // not doubled
  EXPECT_EQ(*store->SumFamily(f, "mars-1", "", Local(0), Local(23)), (kpi::Values{40, 30}));
  EXPECT_TRUE(store->Parked("qa#qa_inspections")->empty());
}

TEST_F(FamilyProjectionTest, ClearingProductionLeavesTheFamilyAlone) {
  Inspect("plant-1", "u1", 9, 10, 100, 90);
  auto store = *RollupStore::Open(store_dir_.path());
  FamilyProjection p(log_.get(), store.get(), QaFamily(), Calendars());
  ASSERT_TRUE(p.Start().ok());
  ASSERT_EQ(*p.Step(absl::Milliseconds(100)), 1u);
  // Production rebuilds itself (a calendar change reached its orders).
  ASSERT_TRUE(store->Clear().ok());
  EXPECT_EQ(*store->SumFamily(QaFamily()->family, "plant-1", "u1", Local(9), Local(10)),
            (kpi::Values{100, 90}));
  EXPECT_EQ(store->LoadCursor("qa#qa_inspections")->size(), 1u);
}

// A module that changes its family's elements: the old rows cannot be added
// to, so that family (and only it) is rebuilt under the new layout.
TEST_F(FamilyProjectionTest, AFamilyWhoseElementsChangedIsRebuiltAlone) {
  Inspect("plant-1", "u1", 9, 10, 100, 90);
  auto store = *RollupStore::Open(store_dir_.path());
  {
    FamilyProjection p(log_.get(), store.get(), QaFamily(), Calendars());
    ASSERT_TRUE(p.Start().ok());
    ASSERT_EQ(*p.Step(absl::Milliseconds(100)), 1u);
  }
  kpi::FamilyRegistration wider = testing::InspectionFamily("qa", "qa_inspections");
  wider.family.elements.push_back({"REWORKED", false});
  class Wider final : public kpi::Fold {
   public:
    absl::Status Apply(const eventlog::v1::Envelope& e, std::vector<kpi::FamilyDelta>& out) override {
      TAKT_RETURN_IF_ERROR(inner_.Apply(e, out));
      for (auto& d : out) d.values.push_back(1);
      return absl::OkStatus();
    }
    testing::InspectionFold inner_;
  };
  wider.fold = [] { return std::unique_ptr<kpi::Fold>(std::make_unique<Wider>()); };
  FamilyProjection p(log_.get(), store.get(), &wider, Calendars());
  ASSERT_TRUE(p.Start().ok());
  EXPECT_TRUE(p.cursor().empty()) << "its cursor went with its rows";
  ASSERT_EQ(*p.Step(absl::Milliseconds(100)), 1u);
  auto sums = store->SumFamily(wider.family, "plant-1", "u1", Local(9), Local(10));
  ASSERT_TRUE(sums.ok()) << sums.status();
  EXPECT_EQ(*sums, (kpi::Values{100, 90, 1}));
}

TEST_F(FamilyProjectionTest, AFoldErrorNamesTheEventAndAppliesNothing) {
  Inspect("plant-1", "u1", 9, 10, 100, 90);
  Inspect("plant-9", "u1", 9, 20, 1, 1);  // a facility the calendars do not know
  auto store = *RollupStore::Open(store_dir_.path());
  FamilyProjection p(log_.get(), store.get(), QaFamily(), Calendars());
  ASSERT_TRUE(p.Start().ok());
  auto n = p.Step(absl::Milliseconds(100));
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("qa/plant-9 sequence 1"), std::string::npos) << n.status();
  EXPECT_NE(n.status().message().find("plant-9"), std::string::npos);
  EXPECT_TRUE(store->LoadCursor("qa#qa_inspections")->empty()) << "the batch is all or nothing";
}

}  // namespace
}  // namespace takt::rollup
