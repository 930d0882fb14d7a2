#include "services/scheduling/planning.h"

#include "gtest/gtest.h"
#include "libs/common/proto_time.h"
#include "services/scheduling/solver/solver.h"
#include "takt/enterprise/v1/model.pb.h"
#include "takt/scheduling/v1/events.pb.h"
#include "takt/staffing/v1/events.pb.h"

namespace takt::scheduling {
namespace {

namespace ev1 = ::takt::enterprise::v1;

// 2026-03-02 00:00 UTC, a Monday.
const absl::Time kMonday = absl::FromCivil(absl::CivilDay(2026, 3, 2), absl::UTCTimeZone());

template <typename M>
absl::Status Put(model::EnterpriseModel& m, const M& desired) {
  auto events = m.Decide(desired);
  if (!events.ok()) return events.status();
  for (const auto& e : *events) {
    if (absl::Status s = m.Apply(e); !s.ok()) return s;
  }
  return absl::OkStatus();
}

class PlanningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ev1::FacilityDefined f;
    f.set_facility("plant");
    f.mutable_calendar()->set_time_zone("UTC");
    f.mutable_calendar()->set_day_start("06:00");
    // Two shifts, 06-14 and 14-22: nights are off.
    for (auto [n, s, e] : {std::tuple{"A", "06:00", "14:00"}, std::tuple{"B", "14:00", "22:00"}}) {
      auto* shift = f.mutable_calendar()->add_shifts();
      shift->set_name(n);
      shift->set_start(s);
      shift->set_end(e);
    }
    ASSERT_TRUE(Put(model_, f).ok());
    ev1::AreaDefined a;
    a.set_facility("plant");
    a.set_area("main");
    ASSERT_TRUE(Put(model_, a).ok());
    for (const char* wc : {"cutting", "assembly"}) {
      ev1::WorkCenterDefined w;
      w.set_facility("plant");
      w.set_area("main");
      w.set_work_center(wc);
      ASSERT_TRUE(Put(model_, w).ok());
    }
    for (auto [u, wc] : {std::pair{"saw-1", "cutting"}, std::pair{"saw-2", "cutting"},
                         std::pair{"bench-1", "assembly"}}) {
      ev1::WorkUnitDefined w;
      w.set_facility("plant");
      w.set_work_center(wc);
      w.set_work_unit(u);
      ASSERT_TRUE(Put(model_, w).ok());
    }
    for (auto [p, pri] : {std::pair{"chair", 60'000'000}, std::pair{"table", 120'000'000}}) {
      ev1::ProductDefined d;
      d.set_product(p);
      d.set_planned_run_time_per_item_us(pri);
      ASSERT_TRUE(Put(model_, d).ok());
    }
    // Chairs: cut on either saw (1 min/item), then assemble (2 min/item).
    ASSERT_TRUE(Do(Routing("chair", "cutting", 60'000'000, 120'000'000, "wood")).ok());
    ASSERT_TRUE(Do(Routing("table", "cutting", 180'000'000, 240'000'000, "oak")).ok());
  }

  static v1::PlanningCommand Routing(const std::string& product, const std::string& wc,
                                     int64_t cut_us, int64_t assemble_us, const std::string& family) {
    v1::PlanningCommand c;
    auto* r = c.mutable_define_routing();
    r->set_product(product);
    auto* cut = r->add_steps();
    cut->set_step("cut");
    cut->set_work_center(wc);
    cut->set_run_time_per_item_us(cut_us);
    cut->set_setup_us(15 * 60'000'000LL);
    cut->set_setup_family(family);
    auto* assemble = r->add_steps();
    assemble->set_step("assemble");
    assemble->add_work_units("bench-1");
    assemble->set_run_time_per_item_us(assemble_us);
    return c;
  }

  static v1::PlanningCommand Create(const std::string& id, const std::string& product, int qty,
                                    absl::Duration due_after_monday, double weight = 1) {
    v1::PlanningCommand c;
    auto* w = c.mutable_create_work_order();
    w->set_work_order(id);
    w->set_product(product);
    w->set_quantity(qty);
    *w->mutable_release_time() = ToProto(kMonday + absl::Hours(6));
    *w->mutable_due_time() = ToProto(kMonday + due_after_monday);
    w->set_weight(weight);
    return c;
  }

  static v1::PlanningCommand Release(const std::string& id) {
    v1::PlanningCommand c;
    c.mutable_release_work_order()->set_work_order(id);
    return c;
  }

  // Decides and applies; the number of events.
  absl::StatusOr<size_t> Do(const v1::PlanningCommand& c) {
    auto events = planning_.Decide(c, model_);
    if (!events.ok()) return events.status();
    for (const auto& e : *events) {
      if (absl::Status s = planning_.Apply(e); !s.ok()) return s;
    }
    return events->size();
  }

  v1::ScheduleRequest Request(const std::string& objective, const std::string& direction) {
    v1::ScheduleRequest r;
    r.set_facility("plant");
    r.set_objective(objective);
    r.set_direction(direction);
    *r.mutable_horizon_start() = ToProto(kMonday);
    r.set_horizon_days(14);
    r.set_max_iterations(3000);
    return r;
  }

  // Every proposal the tests see goes through the feasibility checker, via
  // the same path a commit takes.
  void ExpectFeasible(const v1::Schedule& s) {
    auto committed = planning_.DecideCommit(model_, s);
    EXPECT_TRUE(committed.ok()) << committed.status();
  }

  void AddOrders() {
    ASSERT_EQ(*Do(Create("wo-1", "chair", 120, absl::Hours(20))), 1u);
    ASSERT_EQ(*Do(Create("wo-2", "table", 30, absl::Hours(30), 3)), 1u);
    ASSERT_EQ(*Do(Create("wo-3", "chair", 200, absl::Hours(48))), 1u);
    ASSERT_EQ(*Do(Create("wo-4", "table", 10, absl::Hours(16), 2)), 1u);
    for (const char* id : {"wo-1", "wo-2", "wo-3", "wo-4"}) ASSERT_EQ(*Do(Release(id)), 1u);
  }

  model::EnterpriseModel model_;
  Planning planning_{"plant"};
};

TEST_F(PlanningTest, WorkOrderLifecycleIsIdempotentAndGuarded) {
  ASSERT_EQ(*Do(Create("wo-1", "chair", 10, absl::Hours(20))), 1u);
  EXPECT_EQ(*Do(Create("wo-1", "chair", 10, absl::Hours(20))), 0u);  // resend
  EXPECT_EQ(Do(Create("wo-1", "chair", 11, absl::Hours(20))).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*Do(Release("wo-1")), 1u);
  EXPECT_EQ(*Do(Release("wo-1")), 0u);
  v1::PlanningCommand hold;
  hold.mutable_hold_work_order()->set_work_order("wo-1");
  EXPECT_EQ(*Do(hold), 1u);
  EXPECT_EQ(planning_.work_orders().at("wo-1").status, "held");
  v1::PlanningCommand reprioritise;
  reprioritise.mutable_reprioritise_work_order()->set_work_order("wo-1");
  reprioritise.mutable_reprioritise_work_order()->set_weight(5);
  EXPECT_EQ(*Do(reprioritise), 1u);
  EXPECT_EQ(planning_.work_orders().at("wo-1").weight, 5);
  v1::PlanningCommand cancel;
  cancel.mutable_cancel_work_order()->set_work_order("wo-1");
  EXPECT_EQ(*Do(cancel), 1u);
  auto released = Do(Release("wo-1"));
  EXPECT_EQ(released.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(released.status().message().find("'wo-1' is cancelled"), std::string::npos);
  v1::PlanningCommand complete;
  complete.mutable_complete_work_order()->set_work_order("wo-1");
  *complete.mutable_complete_work_order()->mutable_completed_time() = ToProto(kMonday);
  EXPECT_EQ(Do(complete).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Do(Release("nope")).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PlanningTest, BadRoutingsAndOrdersNameTheCulprit) {
  v1::PlanningCommand c = Routing("chair", "cutting", 1, 1, "");
  c.mutable_define_routing()->mutable_steps(1)->set_work_units(0, "robot-9");
  auto s = Do(c).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("'robot-9' does not exist"), std::string::npos) << s;

  c = Routing("chair", "cutting", 1, 1, "");
  c.mutable_define_routing()->mutable_steps(0)->add_after("assemble");  // cut after assemble after cut
  s = Do(c).status();
  EXPECT_NE(s.message().find("cyclic"), std::string::npos) << s;

  c = Routing("chair", "cutting", -5, 1, "");
  EXPECT_NE(Do(c).status().message().find("negative run time"), std::string::npos);
  c = Routing("chair", "drilling", 1, 1, "");
  EXPECT_NE(Do(c).status().message().find("work center 'drilling' does not exist"), std::string::npos);
  c = Routing("sofa", "cutting", 1, 1, "");
  EXPECT_NE(Do(c).status().message().find("product is not defined"), std::string::npos);
  c = Routing("chair", "cutting", 1, 1, "");
  c.mutable_define_routing()->mutable_steps(1)->add_after("paint");
  EXPECT_NE(Do(c).status().message().find("'paint', which is not a step"), std::string::npos);

  v1::PlanningCommand w = Create("wo-9", "chair", 0, absl::Hours(1));
  EXPECT_NE(Do(w).status().message().find("quantity must be positive"), std::string::npos);
  w = Create("wo-9", "chair", 5, absl::Hours(1));  // due before the 06:00 release
  EXPECT_NE(Do(w).status().message().find("due before its release"), std::string::npos);
  EXPECT_TRUE(planning_.work_orders().empty());  // nothing recorded by the failures
}

TEST_F(PlanningTest, ProposalsAreFeasibleWithinShiftsAndWhatIfChangesNothing) {
  AddOrders();
  const auto before = planning_.work_orders();
  for (const char* objective : {"makespan", "weighted_tardiness", "late_orders"}) {
    auto s = planning_.Propose(model_, Request(objective, "forward"), kMonday);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->operations_size(), 8);
    EXPECT_EQ(s->orders_size(), 4);
    ExpectFeasible(*s);
    // No operation runs at night (22:00-06:00): the units' calendars.
    for (const auto& op : s->operations()) {
      const absl::CivilHour start = absl::ToCivilHour(ToTime(op.setup_start()), absl::UTCTimeZone());
      EXPECT_GE(start.hour(), 6) << op.work_order() << "/" << op.step();
      EXPECT_LT(start.hour(), 22) << op.work_order() << "/" << op.step();
    }
    EXPECT_LE(s->kpis().makespan_seconds(), s->initial_kpis().makespan_seconds());
  }
  // What-if left the orders as they were: no planned windows, same statuses.
  ASSERT_EQ(planning_.work_orders().size(), before.size());
  for (const auto& [id, o] : planning_.work_orders()) {
    EXPECT_EQ(o.status, before.at(id).status);
    EXPECT_FALSE(o.planned_end.has_value());
  }
  EXPECT_TRUE(planning_.committed_schedule_id().empty());
}

TEST_F(PlanningTest, CommittingRecordsPlannedWindowsAndRejectsStaleProposals) {
  AddOrders();
  auto s = planning_.Propose(model_, Request("weighted_tardiness", "forward"), kMonday);
  ASSERT_TRUE(s.ok());
  auto event = planning_.DecideCommit(model_, *s);
  ASSERT_TRUE(event.ok()) << event.status();
  ASSERT_TRUE(planning_.Apply(*event).ok());
  EXPECT_EQ(planning_.committed_schedule_id(), s->schedule_id());
  EXPECT_TRUE(planning_.work_orders().at("wo-2").planned_end.has_value());

  // A proposal that overlaps two operations on one unit is refused.
  v1::Schedule bad = *s;
  for (auto& op : *bad.mutable_operations()) {
    if (op.step() == "assemble") {
      *op.mutable_setup_start() = ToProto(kMonday + absl::Hours(7));
      *op.mutable_start() = ToProto(kMonday + absl::Hours(7));
    }
  }
  auto refused = planning_.DecideCommit(model_, bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  // A newly released order makes the old proposal stale.
  ASSERT_EQ(*Do(Create("wo-5", "chair", 5, absl::Hours(60))), 1u);
  ASSERT_EQ(*Do(Release("wo-5")), 1u);
  auto stale = planning_.DecideCommit(model_, *s);
  EXPECT_NE(stale.status().message().find("'wo-5'"), std::string::npos) << stale.status();
}

TEST_F(PlanningTest, BackwardPlansFinishJustInTimeForTheirDueDates) {
  // Generous due dates: a feasible plan meets all of them.
  ASSERT_EQ(*Do(Create("wo-1", "chair", 60, absl::Hours(34))), 1u);  // Tue 10:00
  ASSERT_EQ(*Do(Create("wo-2", "table", 20, absl::Hours(58))), 1u);  // Wed 10:00
  for (const char* id : {"wo-1", "wo-2"}) ASSERT_EQ(*Do(Release(id)), 1u);
  auto fwd = planning_.Propose(model_, Request("weighted_tardiness", "forward"), kMonday);
  auto bwd = planning_.Propose(model_, Request("weighted_tardiness", "backward"), kMonday);
  ASSERT_TRUE(fwd.ok() && bwd.ok()) << bwd.status();
  ExpectFeasible(*bwd);
  EXPECT_EQ(bwd->kpis().late_orders(), 0);
  EXPECT_TRUE(bwd->note().empty()) << bwd->note();
  for (const auto& o : bwd->orders()) {
    EXPECT_LE(o.lateness_seconds(), 0) << o.work_order();
    // Just in time: finishing exactly at the due date (nothing competes for
    // the bench in the hours before each due date).
    EXPECT_EQ(o.lateness_seconds(), 0) << o.work_order();
  }
  // Forward finishes early instead.
  for (const auto& o : fwd->orders()) EXPECT_LT(o.lateness_seconds(), 0) << o.work_order();
}

TEST_F(PlanningTest, AUnitWithNoCapacityBeforeTheHorizonIsReported) {
  v1::PlanningCommand closed;
  auto* x = closed.mutable_add_calendar_exception();
  x->set_work_unit("bench-1");
  *x->mutable_start() = ToProto(kMonday - absl::Hours(24));
  *x->mutable_end() = ToProto(kMonday + absl::Hours(24 * 30));
  x->set_kind("planned_downtime");
  ASSERT_EQ(*Do(closed), 1u);
  AddOrders();
  auto s = planning_.Propose(model_, Request("makespan", "forward"), kMonday);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("'bench-1' has no capacity"), std::string::npos) << s.status();
}

TEST_F(PlanningTest, CrewAwarePlansUseOnlyStaffedShiftsAndNameTheShortOnes) {
  ASSERT_EQ(*Do(Create("wo-1", "chair", 60, absl::Hours(72))), 1u);
  ASSERT_EQ(*Do(Release("wo-1")), 1u);
  // Assembly needs two people with the "glue" qualification on every shift;
  // the roster staffs only Monday's B shift and Tuesday's A shift.
  CrewFacts crew;
  staffing::v1::StationRequirementSet req;
  req.set_station("assembly");
  req.set_min_people(2);
  req.add_qualifications("glue");
  ASSERT_TRUE(crew.Apply(es::EventOf(req)).ok());
  for (auto [day, shift, n] : {std::tuple{"2026-03-02", "A", 1}, std::tuple{"2026-03-02", "B", 2},
                               std::tuple{"2026-03-03", "A", 2}}) {
    staffing::v1::CoverageChanged c;
    c.set_day(day);
    c.set_shift(shift);
    c.set_station("assembly");
    c.set_qualified(n);
    ASSERT_TRUE(crew.Apply(es::EventOf(c)).ok());
  }
  v1::ScheduleRequest r = Request("makespan", "forward");
  r.set_respect_crew(true);
  // Without the crew facts the request cannot be served.
  EXPECT_FALSE(planning_.Propose(model_, r, kMonday).ok());
  auto s = planning_.Propose(model_, r, kMonday, &crew);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->respect_crew());
  // 60 chairs: cut 60 min on a saw from 06:15, then 120 min of assembly,
  // which cannot start in Monday's A shift (1 of 2 qualified): B at 14:00.
  for (const auto& op : s->operations()) {
    if (op.step() != "assemble") continue;
    EXPECT_EQ(ToTime(op.setup_start()), kMonday + absl::Hours(14));
  }
  ASSERT_GE(s->crew_shortages_size(), 1);
  EXPECT_EQ(s->crew_shortages(0).day(), "2026-03-02");
  EXPECT_EQ(s->crew_shortages(0).shift(), "A");
  EXPECT_EQ(s->crew_shortages(0).station(), "assembly");
  EXPECT_EQ(s->crew_shortages(0).qualified(), 1u);
  EXPECT_EQ(s->crew_shortages(0).required(), 2u);
  EXPECT_EQ(s->crew_shortages(0).qualifications(0), "glue");
  EXPECT_EQ(s->crew_shortages_total(), static_cast<uint32_t>(s->crew_shortages_size()));
  // The commit checks the plan against the same crew calendars.
  EXPECT_TRUE(planning_.DecideCommit(model_, *s, &crew).ok());
  // Ignoring crew, assembly starts in Monday's A shift.
  auto free = planning_.Propose(model_, Request("makespan", "forward"), kMonday);
  ASSERT_TRUE(free.ok());
  EXPECT_EQ(free->crew_shortages_size(), 0);
  for (const auto& op : free->operations()) {
    if (op.step() == "assemble") {
      EXPECT_LT(ToTime(op.end()), kMonday + absl::Hours(14));
    }
  }
  // That plan, marked as respecting crew, is refused at commit.
  v1::Schedule forged = *free;
  forged.set_respect_crew(true);
  auto refused = planning_.DecideCommit(model_, forged, &crew);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
}

TEST_F(PlanningTest, WhenNoShiftHasTheCrewTheErrorNamesStationShiftAndQualification) {
  ASSERT_EQ(*Do(Create("wo-1", "chair", 10, absl::Hours(72))), 1u);
  ASSERT_EQ(*Do(Release("wo-1")), 1u);
  CrewFacts crew;
  staffing::v1::StationRequirementSet req;
  req.set_station("bench-1");
  req.set_min_people(1);
  req.add_qualifications("glue");
  ASSERT_TRUE(crew.Apply(es::EventOf(req)).ok());
  v1::ScheduleRequest r = Request("makespan", "forward");
  r.set_respect_crew(true);
  auto s = planning_.Propose(model_, r, kMonday, &crew);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_NE(s.status().message().find(
                "station 'bench-1' on shift A of 2026-03-02: 0 of 1 qualified (glue)"),
            std::string::npos)
      << s.status();
  EXPECT_NE(s.status().message().find("crew short in 28 shifts"), std::string::npos) << s.status();
}

TEST_F(PlanningTest, HorizonsAreBounded) {
  AddOrders();
  v1::ScheduleRequest r = Request("makespan", "forward");
  r.set_horizon_days(367);
  EXPECT_EQ(planning_.Propose(model_, r, kMonday).status().code(), absl::StatusCode::kInvalidArgument);
  auto s = planning_.Propose(model_, Request("makespan", "forward"), kMonday);
  ASSERT_TRUE(s.ok());
  v1::Schedule far = *s;
  *far.mutable_operations(0)->mutable_end() = ToProto(kMonday + absl::Hours(24 * 5000));
  auto refused = planning_.DecideCommit(model_, far);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
}

TEST_F(PlanningTest, CountCorrectionsReferToTheOriginalAndChain) {
  scheduling::v1::ProductionCounted count;
  count.set_work_unit("saw-1");
  count.set_product("chair");
  count.set_good(100);
  count.set_scrap(5);
  count.set_planned_run_time_per_item_us(60'000'000);
  eventlog::v1::Envelope original;
  original.set_event_type("takt.scheduling.v1.ProductionCounted");
  original.set_event_id("ev-17");
  original.set_sequence(17);
  *original.mutable_occurred_time() = ToProto(kMonday + absl::Hours(9));
  original.set_payload(count.SerializeAsString());

  v1::CorrectCount fix;
  fix.set_corrects_sequence(17);
  fix.mutable_corrected()->set_good(100);
  fix.mutable_corrected()->set_scrap(8);
  fix.set_reason("recount");
  auto events = planning_.DecideCorrection(fix, &original);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  v1::ProductionCountCorrected x;
  ASSERT_TRUE(x.ParseFromString((*events)[0].payload));
  EXPECT_EQ(x.corrects_event_id(), "ev-17");
  EXPECT_EQ(x.previous().scrap(), 5);
  EXPECT_EQ(x.corrected().scrap(), 8);
  EXPECT_EQ(x.work_unit(), "saw-1");
  EXPECT_EQ(x.planned_run_time_per_item_us(), 60'000'000);
  ASSERT_TRUE(planning_.Apply((*events)[0]).ok());
  // The same figures again: nothing to record. A second correction starts
  // from the first one's figures, not the original's.
  EXPECT_TRUE(planning_.DecideCorrection(fix, &original)->empty());
  fix.mutable_corrected()->set_scrap(6);
  auto second = planning_.DecideCorrection(fix, &original);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(x.ParseFromString((*second)[0].payload));
  EXPECT_EQ(x.previous().scrap(), 8);
  // Bad corrections.
  fix.clear_reason();
  EXPECT_EQ(planning_.DecideCorrection(fix, &original).status().code(),
            absl::StatusCode::kInvalidArgument);
  fix.set_reason("x");
  fix.mutable_corrected()->set_good(-1);
  EXPECT_EQ(planning_.DecideCorrection(fix, &original).status().code(),
            absl::StatusCode::kInvalidArgument);
  fix.mutable_corrected()->set_good(1);
  EXPECT_EQ(planning_.DecideCorrection(fix, nullptr).status().code(), absl::StatusCode::kNotFound);
  original.set_event_type("takt.scheduling.v1.UnitStateChanged");
  EXPECT_EQ(planning_.DecideCorrection(fix, &original).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace takt::scheduling
