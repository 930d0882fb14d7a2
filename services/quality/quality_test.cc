#include "services/quality/quality.h"

#include "gtest/gtest.h"
#include "libs/common/proto_time.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/model/enterprise_model.h"
#include "libs/testing/temp_dir.h"
#include "services/quality/families.h"
#include "takt/enterprise/v1/model.pb.h"

namespace takt::quality {
namespace {

namespace ev1 = ::takt::enterprise::v1;

const absl::Time kDay = absl::FromCivil(absl::CivilSecond(2026, 3, 2, 6, 0, 0), absl::UTCTimeZone());

class QualityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OpenLog();
    model::EnterpriseModel m;
    ev1::FacilityDefined f;
    f.set_facility("plant-1");
    f.mutable_calendar()->set_time_zone("UTC");
    ev1::AreaDefined a;
    a.set_facility("plant-1");
    a.set_area("a");
    ev1::WorkCenterDefined w;
    w.set_facility("plant-1");
    w.set_area("a");
    w.set_work_center("wc");
    ev1::WorkUnitDefined u;
    u.set_facility("plant-1");
    u.set_work_center("wc");
    u.set_work_unit("cnc-1");
    eventlog::AppendRequest append;
    append.context = model::kEnterpriseContext;
    append.facility = model::kEnterpriseStream;
    for (const google::protobuf::Message* msg : std::vector<const google::protobuf::Message*>{&f, &a, &w, &u}) {
      auto events = m.Decide(*msg);
      ASSERT_TRUE(events.ok()) << events.status();
      for (const auto& e : *events) {
        ASSERT_TRUE(m.Apply(e).ok());
        eventlog::Envelope env;
        env.set_event_type(e.type);
        env.set_payload(e.payload);
        append.events.push_back(env);
      }
    }
    ASSERT_TRUE(log_->Append(append).ok());
    Start();
    v1::ApplyPlansRequest plans;
    plans.set_facility("plant-1");
    auto* code = plans.add_defect_codes();
    code->set_code("SCRATCH");
    auto* p = plans.add_plans();
    p->set_plan_id("housing-op20");
    p->set_product("housing");
    p->set_work_unit("cnc-1");
    p->set_effective_from("2026-01-01");
    auto* c = p->add_characteristics();
    c->set_id("bore");
    c->set_chart(v1::I_MR);
    c->set_nominal(10);
    c->set_lower_spec(9);
    c->set_upper_spec(11);
    c->set_unit("mm");
    c->set_subgroup_size(1);
    c->set_resolution(0.001);
    c->set_ncr_on_violation(true);
    auto* finish = p->add_characteristics();
    finish->set_id("finish");
    finish->set_chart(v1::P);
    finish->add_defect_codes("SCRATCH");
    auto applied = quality_->ApplyPlans(plans, {"tester", kDay});
    ASSERT_TRUE(applied.ok()) << applied.status();
    EXPECT_EQ(applied->changed(), 2u);
  }
  void OpenLog() {
    eventlog::EmbeddedLogOptions o;
    o.data_dir = dir_.path();
    log_ = std::move(*eventlog::OpenEmbeddedLog(o));
  }
  void Start() {
    models_ = std::make_unique<model::ModelStore>(log_.get());
    ASSERT_TRUE(models_->Refresh().ok());
    quality_ = std::make_unique<Quality>(log_.get(), models_.get(), nullptr);
  }
  void Restart() {
    quality_.reset();
    models_.reset();
    log_.reset();
    OpenLog();
    Start();
  }
  static v1::Sample Measure(uint64_t seq, double x, absl::Time at, const std::string& c = "bore") {
    v1::Sample s;
    s.set_source_id("cmm-1");
    s.set_source_sequence(seq);
    *s.mutable_source_time() = ToProto(at);
    s.set_characteristic(c);
    s.mutable_measurement()->add_values(x);
    s.mutable_measurement()->set_unit("mm");
    return s;
  }
  absl::StatusOr<v1::SampleAck> Send(const std::vector<v1::Sample>& samples) {
    v1::SampleBatch b;
    b.set_facility("plant-1");
    for (const auto& s : samples) *b.add_samples() = s;
    return quality_->Ingest(b, kDay + absl::Hours(24 * 30), "gateway");
  }
  // A baseline of 20 individuals around 10 (MR-bar 0.02) and approved limits.
  void Baseline() {
    std::vector<v1::Sample> samples;
    for (int i = 0; i < 20; ++i) {
      samples.push_back(Measure(i + 1, i % 2 == 0 ? 9.99 : 10.01, kDay + absl::Minutes(i)));
    }
    auto ack = Send(samples);
    ASSERT_TRUE(ack.ok()) << ack.status();
    ASSERT_EQ(ack->accepted(), 20u);
    ASSERT_EQ(ack->violations(), 0u);  // no limits yet
    v1::ApproveLimitsRequest r;
    r.set_facility("plant-1");
    r.set_characteristic("bore");
    *r.mutable_baseline_from() = ToProto(kDay);
    *r.mutable_baseline_to() = ToProto(kDay + absl::Hours(1));
    r.set_reason("initial study");
    auto limits = quality_->ApproveLimits(r, {"qe", kDay + absl::Hours(1)});
    ASSERT_TRUE(limits.ok()) << limits.status();
    EXPECT_EQ(limits->revision(), 1u);
    EXPECT_NEAR(limits->center(), 10.0, 1e-9);
    EXPECT_NEAR(limits->upper(), 10 + 3 * 0.02 / 1.128, 1e-9);
    EXPECT_EQ(limits->applies_after_sequence(), 20u);
  }
  size_t Count(const std::string& stream, const std::string& type) {
    auto events = log_->ReadStream({kQualityContext, stream}, 1, 100000);
    size_t n = 0;
    for (const auto& e : *events) n += e.envelope.event_type() == type;
    return n;
  }

  testing::TempDir dir_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<model::ModelStore> models_;
  std::unique_ptr<Quality> quality_;
};

TEST_F(QualityTest, BadSamplesAreRejectedOneByOneTheRestIsDurable) {
  v1::Sample nan = Measure(1, std::nan(""), kDay);
  v1::Sample unknown = Measure(2, 10, kDay, "ghost");
  v1::Sample inch = Measure(3, 10, kDay);
  inch.mutable_measurement()->set_unit("in");
  v1::Sample two = Measure(4, 10, kDay);
  two.mutable_measurement()->add_values(10);
  v1::Sample old = Measure(5, 10, absl::FromCivil(absl::CivilDay(1970, 1, 1), absl::UTCTimeZone()));
  v1::Sample wild = Measure(6, 1e6, kDay);
  v1::Sample wrong_kind = Measure(7, 10, kDay, "finish");
  v1::Sample bad_code;
  bad_code.set_source_id("vision-1");
  bad_code.set_source_sequence(1);
  *bad_code.mutable_source_time() = ToProto(kDay);
  bad_code.set_characteristic("finish");
  bad_code.mutable_inspection()->set_inspected(10);
  bad_code.mutable_inspection()->set_failed(1);
  auto* d = bad_code.mutable_inspection()->add_defects();
  d->set_code("DENT");
  d->set_count(1);
  v1::Sample good = Measure(8, 10.0, kDay);
  auto ack = Send({nan, unknown, inch, two, old, wild, wrong_kind, bad_code, good});
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->accepted(), 1u);
  ASSERT_EQ(ack->rejected_size(), 8);
  const std::vector<std::pair<std::string, absl::StatusCode>> expected = {
      {"finite", absl::StatusCode::kInvalidArgument},   {"no plan", absl::StatusCode::kNotFound},
      {"unit", absl::StatusCode::kInvalidArgument},     {"subgroup", absl::StatusCode::kInvalidArgument},
      {"horizon", absl::StatusCode::kOutOfRange},       {"tolerances", absl::StatusCode::kInvalidArgument},
      {"attribute", absl::StatusCode::kInvalidArgument}, {"DENT", absl::StatusCode::kInvalidArgument}};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(ack->rejected(i).index(), static_cast<uint32_t>(i));
    EXPECT_NE(ack->rejected(i).reason().find(expected[i].first), std::string::npos)
        << ack->rejected(i).reason();
    EXPECT_EQ(ack->rejected(i).code(), static_cast<int>(expected[i].second));
  }
  EXPECT_EQ(Count("plant-1", "takt.quality.v1.SubgroupMeasured"), 1u);
  v1::SampleBatch empty;
  empty.set_facility("plant-1");
  EXPECT_EQ(quality_->Ingest(empty, kDay, "g").status().code(), absl::StatusCode::kInvalidArgument);
  empty.set_facility("nowhere");
  *empty.add_samples() = good;
  EXPECT_EQ(quality_->Ingest(empty, kDay, "g").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(QualityTest, RuleViolationsAreRecordedWithTheirDataAndResendsChangeNothing) {
  Baseline();
  // sigma = 0.02 / 1.128: 2 sigma is 10.0355, 3 sigma 10.0532. A shift
  // puts two of three beyond 2 sigma, then one point beyond 3 sigma.
  std::vector<v1::Sample> shifted = {Measure(21, 10.04, kDay + absl::Hours(2)),
                                     Measure(22, 10.00, kDay + absl::Hours(2) + absl::Minutes(1)),
                                     Measure(23, 10.045, kDay + absl::Hours(2) + absl::Minutes(2)),
                                     Measure(24, 10.2, kDay + absl::Hours(2) + absl::Minutes(3))};
  auto ack = Send(shifted);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->accepted(), 4u);
  // Rule 2 at 23; rule 1 at 24, and the moving range 10.045 -> 10.2 is
  // beyond the MR chart's limit (rule 1 there too).
  EXPECT_EQ(ack->violations(), 3u);
  const size_t events = Count("plant-1", "takt.quality.v1.RuleViolated");
  EXPECT_EQ(events, 3u);
  // Each violation names rule, characteristic, subgroups and values.
  auto logged = log_->ReadStream({kQualityContext, "plant-1"}, 1, 1000);
  v1::RuleViolated first;
  for (const auto& e : *logged) {
    if (e.envelope.event_type() == "takt.quality.v1.RuleViolated") {
      ASSERT_TRUE(first.ParseFromString(e.envelope.payload()));
      break;
    }
  }
  EXPECT_EQ(first.rule(), 2u);
  EXPECT_EQ(first.characteristic(), "bore");
  ASSERT_EQ(first.sequences_size(), 3);
  EXPECT_DOUBLE_EQ(first.values(2), 10.045);
  EXPECT_EQ(first.chart(), "individuals");

  // Resent (a gateway reconnecting): duplicates, no new events, no new signals.
  auto again = Send(shifted);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->duplicates(), 4u);
  EXPECT_EQ(again->accepted(), 0u);
  EXPECT_EQ(again->violations(), 0u);
  EXPECT_EQ(Count("plant-1", "takt.quality.v1.RuleViolated"), events);
  // The same key with other content is refused.
  auto changed = Send({Measure(24, 10.3, kDay + absl::Hours(2) + absl::Minutes(3))});
  ASSERT_TRUE(changed.ok());
  ASSERT_EQ(changed->rejected_size(), 1);
  EXPECT_EQ(changed->rejected(0).code(), static_cast<int>(absl::StatusCode::kAlreadyExists));

  // The auto NCR (ncr_on_violation): one open per characteristic; the
  // later signals are its evidence.
  auto ncrs = quality_->ListNcrs([] { v1::ListNcrsRequest r; r.set_facility("plant-1"); return r; }());
  ASSERT_TRUE(ncrs.ok());
  ASSERT_EQ(ncrs->ncrs_size(), 1);
  EXPECT_EQ(ncrs->ncrs(0).origin(), "rule_violation");
  EXPECT_EQ(ncrs->ncrs(0).ncr_id(), "ncr-s24");  // the rule 2 signal after subgroup 23

  // After a restart: resends are still duplicates, the chart is the same.
  v1::ChartRequest cr;
  cr.set_facility("plant-1");
  cr.set_characteristic("bore");
  auto before = quality_->Chart(cr);
  ASSERT_TRUE(before.ok()) << before.status();
  Restart();
  auto after_restart = Send(shifted);
  ASSERT_TRUE(after_restart.ok());
  EXPECT_EQ(after_restart->duplicates(), 4u);
  EXPECT_EQ(Count("plant-1", "takt.quality.v1.RuleViolated"), events);
  auto after = quality_->Chart(cr);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(before->SerializeAsString(), after->SerializeAsString());
  EXPECT_EQ(after->points_size(), 24);
  EXPECT_EQ(after->violations_size(), 3);
  EXPECT_EQ(after->points(22).rules_size(), 1);  // rule 2 at the 23rd point
  EXPECT_EQ(after->points(19).limits_revision(), 0u);  // the baseline had none
  EXPECT_EQ(after->points(20).limits_revision(), 1u);
  auto listed = quality_->ListNcrs([] { v1::ListNcrsRequest r; r.set_facility("plant-1"); return r; }());
  EXPECT_EQ(listed->ncrs_size(), 1);  // not raised again
}

TEST_F(QualityTest, LimitsNeedABaselineAndAReason) {
  v1::ApproveLimitsRequest r;
  r.set_facility("plant-1");
  r.set_characteristic("bore");
  *r.mutable_baseline_from() = ToProto(kDay);
  *r.mutable_baseline_to() = ToProto(kDay + absl::Hours(1));
  EXPECT_EQ(quality_->ApproveLimits(r, {"qe", kDay}).status().code(), absl::StatusCode::kInvalidArgument);
  r.set_reason("study");
  EXPECT_EQ(quality_->ApproveLimits(r, {"qe", kDay}).status().code(), absl::StatusCode::kFailedPrecondition);
  r.set_characteristic("ghost");
  EXPECT_EQ(quality_->ApproveLimits(r, {"qe", kDay}).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(QualityTest, InspectionsFeedTheQualityFamily) {
  v1::Sample s;
  s.set_source_id("vision-1");
  s.set_source_sequence(1);
  *s.mutable_source_time() = ToProto(kDay);
  s.set_characteristic("finish");
  s.mutable_inspection()->set_inspected(50);
  s.mutable_inspection()->set_failed(2);
  auto* d = s.mutable_inspection()->add_defects();
  d->set_code("SCRATCH");
  d->set_count(3);
  auto ack = Send({s});
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->accepted(), 1u);
  // The quality family's fold over the recorded event.
  auto events = log_->ReadStream({kQualityContext, "plant-1"}, 1, 10);
  ASSERT_EQ(events->size(), 1u);
  auto families = Families();
  auto fold = families[0].fold();
  std::vector<kpi::FamilyDelta> deltas;
  ASSERT_TRUE(fold->Apply((*events)[0].envelope, deltas).ok());
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].facility, "plant-1");
  EXPECT_EQ(deltas[0].unit, "cnc-1");
  EXPECT_EQ(deltas[0].values[kInspected], 50);
  EXPECT_EQ(deltas[0].values[kFirstPassed], 48);
  EXPECT_EQ(deltas[0].values[kDefects], 3);
  EXPECT_EQ(deltas[0].values[kOpportunities], 50);
}

}  // namespace
}  // namespace takt::quality
