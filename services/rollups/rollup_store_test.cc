#include "services/rollups/rollup_store.h"

#include <functional>
#include <random>

#include "gtest/gtest.h"
#include "libs/kpi/registry.h"
#include "libs/testing/temp_dir.h"
#include "rocksdb/db.h"

namespace takt::rollup {
namespace {

using kpi::Element;
using kpi::ElementSums;

constexpr int64_t kHour = 3'600'000'000;
const absl::Time kT0 = absl::FromUnixSeconds(1'790'000'000 / 3600 * 3600);

// The production day of an hour in a UTC facility whose day starts at 00:00.
absl::CivilDay DayOf(absl::Time hour) { return absl::ToCivilDay(hour, absl::UTCTimeZone()); }

ElementSums Running(int64_t minutes) {
  ElementSums s;
  s[Element::kApt] = s[Element::kPbt] = minutes * 60'000'000;
  return s;
}

// Opens the store's RocksDB directly (as someone editing it behind the
// store's back would) and runs `edit` on its meta column family.
void EditMeta(const std::string& path,
              const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& edit) {
  rocksdb::Options o;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* n : {"default", "unit_hours", "facility_hours", "meta", "timelines",
                        "reason_hours", "facility_days", "orders"}) {
    cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());  // merges are not needed to edit meta
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(o, path, cfs, &handles, &db).ok());
  edit(db, handles[3]);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  delete db;
}

TEST(RollupStoreTest, SumsOverRangesUnitsAndFacilities) {
  testing::TempDir dir;
  auto store = RollupStore::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<UnitHourDelta> deltas;
  for (int h = 0; h < 48; ++h) {
    const absl::Time hour = kT0 + absl::Hours(h);
    deltas.push_back({"plant-1", "press-1", hour, Running(30), DayOf(hour)});
    deltas.push_back({"plant-1", "press-2", hour, Running(45), DayOf(hour)});
    deltas.push_back({"plant-2", "press-1", hour, Running(60), DayOf(hour)});
  }
  ASSERT_TRUE((*store)->Apply(deltas, "scheduling", {{"plant-1", 97}}, true).ok());
  auto unit = (*store)->SumUnit("plant-1", "press-2", kT0 + absl::Hours(10), kT0 + absl::Hours(20));
  ASSERT_TRUE(unit.ok());
  EXPECT_EQ((*unit)[Element::kApt], 10 * 45 * 60'000'000LL);
  auto facility = (*store)->SumFacility("plant-1", kT0, kT0 + absl::Hours(24));
  EXPECT_EQ((*facility)[Element::kApt], 24 * 75 * 60'000'000LL);
  auto hours = (*store)->Hours("plant-2", "", kT0 + absl::Hours(47), kT0 + absl::Hours(100));
  ASSERT_EQ(hours->size(), 1u);
  EXPECT_EQ(hours->begin()->first, kT0 + absl::Hours(47));
  EXPECT_EQ((*store)->SumFacility("nowhere", kT0, kT0 + absl::Hours(1))->v, ElementSums{}.v);
  // Day buckets hold the same sums as the hours of those days.
  auto days = (*store)->FacilityDays("plant-1", DayOf(kT0), DayOf(kT0 + absl::Hours(47)));
  ASSERT_TRUE(days.ok());
  ElementSums from_days;
  for (const auto& [d, v] : *days) from_days += v;
  EXPECT_EQ(from_days, *(*store)->SumFacility("plant-1", kT0, kT0 + absl::Hours(48)));
  // A delta without its production day is refused.
  UnitHourDelta no_day;
  no_day.facility = "f";
  no_day.unit = "u";
  no_day.hour = kT0;
  no_day.delta = Running(1);
  EXPECT_EQ((*store)->Apply({no_day}, "scheduling", {}, false).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RollupStoreTest, DeltasAddIncludingCorrectionsAndSurviveReopen) {
  testing::TempDir dir;
  {
    auto store = RollupStore::Open(dir.path());
    ASSERT_TRUE((*store)->Apply({{"f", "u", kT0, Running(60), DayOf(kT0)}}, "scheduling", {{"f", 2}}, true).ok());
    ElementSums correction;  // a late failure re-attributes 15 minutes
    correction[Element::kApt] = -15 * 60'000'000LL;
    correction[Element::kAdet] = 15 * 60'000'000LL;
    correction[Element::kFe] = 1;
    ASSERT_TRUE((*store)->Apply({{"f", "u", kT0, correction, DayOf(kT0)}}, "scheduling", {{"f", 3}}, true).ok());
  }
  auto store = RollupStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  auto sums = (*store)->SumUnit("f", "u", kT0, kT0 + absl::Hours(1));
  EXPECT_EQ((*sums)[Element::kApt], 45 * 60'000'000LL);
  EXPECT_EQ((*sums)[Element::kAdet], 15 * 60'000'000LL);
  EXPECT_EQ((*sums)[Element::kFe], 1);
  auto cursor = (*store)->LoadCursor("scheduling");
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(cursor->at("f"), 3u);
  EXPECT_TRUE((*store)->LoadCursor("quality")->empty());
}

TEST(RollupStoreTest, CursorsWithAnyPartitionNamesRoundTrip) {
  testing::TempDir dir;
  auto store = RollupStore::Open(dir.path());
  Cursor c = {{"0", 17}, {"plant;x=1:2", 4}, {"", 9}};
  ASSERT_TRUE((*store)->Apply({}, "scheduling", c, false).ok());
  EXPECT_EQ(*(*store)->LoadCursor("scheduling"), c);
}

TEST(RollupStoreTest, ACorruptCursorIsDataLossNotACrash) {
  testing::TempDir dir;
  {
    auto store = RollupStore::Open(dir.path());
    ASSERT_TRUE((*store)->Apply({}, "scheduling", {{"p", 1}}, true).ok());
  }
  // Overwrite the cursor row behind the store's back.
  EditMeta(dir.path(), [](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta) {
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), meta, "cursor/scheduling", "99x:zz;").ok());
  });
  auto store = RollupStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->LoadCursor("scheduling").status().code(), absl::StatusCode::kDataLoss);
}

TEST(RollupStoreTest, AStoreInAnOlderLayoutIsDroppedForARebuild) {
  testing::TempDir dir;
  {
    auto store = RollupStore::Open(dir.path());
    ASSERT_TRUE((*store)->Apply({}, "scheduling", {{"p", 7}}, true).ok());
  }
  // Remove the layout marker, as a store written before it existed.
  EditMeta(dir.path(), [](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), meta, "format").ok());
  });
  auto store = RollupStore::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  // Empty again: the projection starts from the beginning of the log.
  auto cursor = (*store)->LoadCursor("scheduling");
  ASSERT_TRUE(cursor.ok());
  EXPECT_TRUE(cursor->empty());
  // And the new store keeps its layout across reopening.
  ASSERT_TRUE((*store)->Apply({}, "scheduling", {{"p", 3}}, true).ok());
  store->reset();
  store = RollupStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->LoadCursor("scheduling")->at("p"), 3u);
}

TEST(RollupStoreTest, TimelinesComeBackInTheOrderTheyWereApplied) {
  testing::TempDir dir;
  const absl::Time t = kT0;
  {
    auto store = RollupStore::Open(dir.path());
    ASSERT_TRUE((*store)->Apply({}, {{"f", "u1", t + absl::Minutes(5), 1, ""},
                                      {"f", "u2", t, 4, "jam"},
                                      {"f", "u1", t, 4, "motor overheating"}},
                                "scheduling", {{"p", 3}}, true).ok());
    ASSERT_TRUE((*store)->Apply({}, {{"f", "u1", t + absl::Minutes(1), 2, ""}}, "scheduling",
                                {{"p", 4}}, true).ok());
  }
  auto store = RollupStore::Open(dir.path());
  auto u1 = (*store)->LoadTimeline("f", "u1");
  ASSERT_TRUE(u1.ok());
  ASSERT_EQ(u1->size(), 3u);
  EXPECT_EQ(std::get<0>((*u1)[0]), t + absl::Minutes(5));
  EXPECT_EQ(std::get<2>((*u1)[1]), "motor overheating");
  EXPECT_EQ(std::get<1>((*u1)[2]), 2);
  auto u2 = (*store)->LoadTimeline("f", "u2");
  ASSERT_EQ(u2->size(), 1u);
  EXPECT_EQ(std::get<2>((*u2)[0]), "jam");
  EXPECT_TRUE((*store)->LoadTimeline("f", "u")->empty());  // a prefix of u1, not u1
}

TEST(RollupStoreTest, RegionOeeIsARatioOfSumsAcrossFacilities) {
  testing::TempDir dir;
  auto store = RollupStore::Open(dir.path());
  // Site A at 90 % over 10 h, site B at 50 % over 990 h (idle losses).
  auto site = [](const std::string& f, double oee, int hours) {
    std::vector<UnitHourDelta> out;
    for (int h = 0; h < hours; ++h) {
      ElementSums s;
      s[Element::kPbt] = kHour;
      s[Element::kApt] = static_cast<int64_t>(oee * kHour);
      s[Element::kAdot] = kHour - s[Element::kApt];
      s[Element::kPriPq] = s[Element::kPriGq] = s[Element::kApt];
      out.push_back({f, "line-1", kT0 + absl::Hours(h), s, DayOf(kT0 + absl::Hours(h))});
    }
    return out;
  };
  ASSERT_TRUE((*store)->Apply(site("site-a", 0.9, 10), "scheduling", {}, false).ok());
  ASSERT_TRUE((*store)->Apply(site("site-b", 0.5, 990), "scheduling", {}, false).ok());
  ElementSums region;
  for (const char* f : {"site-a", "site-b"}) {
    region += *(*store)->SumFacility(f, kT0, kT0 + absl::Hours(1000));
  }
  EXPECT_NEAR(*kpi::Evaluate(*kpi::FindKpi("oee"), region), 50.4, 1e-9);
  EXPECT_NEAR(*kpi::Evaluate(*kpi::FindKpi("oee"),
                             *(*store)->SumFacility("site-a", kT0, kT0 + absl::Hours(1000))),
              90.0, 1e-9);
}

TEST(RollupStoreTest, SameDeltasInAnyBatchingGiveIdenticalRows) {
  std::mt19937_64 rng(3);
  std::vector<UnitHourDelta> deltas;
  for (int i = 0; i < 2000; ++i) {
    ElementSums s;
    s[static_cast<Element>(rng() % kpi::kElementCount)] = static_cast<int64_t>(rng() % 1000) - 300;
    const absl::Time hour = kT0 + absl::Hours(static_cast<int64_t>(rng() % 50));
    deltas.push_back({"f" + std::to_string(rng() % 3), "u" + std::to_string(rng() % 4), hour, s,
                      DayOf(hour)});
  }
  testing::TempDir a, b;
  auto one = RollupStore::Open(a.path());
  ASSERT_TRUE((*one)->Apply(deltas, "scheduling", {}, false).ok());
  auto many = RollupStore::Open(b.path());
  for (size_t i = 0; i < deltas.size(); i += 7) {
    std::vector<UnitHourDelta> part(deltas.begin() + static_cast<long>(i),
                                    deltas.begin() + static_cast<long>(std::min(i + 7, deltas.size())));
    ASSERT_TRUE((*many)->Apply(part, "scheduling", {}, false).ok());
  }
  EXPECT_EQ(*(*one)->DumpUnitHours(), *(*many)->DumpUnitHours());
}

}  // namespace
}  // namespace takt::rollup
