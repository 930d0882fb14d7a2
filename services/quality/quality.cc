#include "services/quality/quality.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/ids.h"
#include "libs/common/log.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/es/screened_append.h"
#include "libs/kpi/family.h"
#include "services/quality/capability.h"
#include "services/quality/families.h"
#include "services/rollups/query.h"
#include "services/rollups/rollup_store.h"

namespace takt::quality {
namespace {

constexpr char kSubgroupType[] = "takt.quality.v1.SubgroupMeasured";
constexpr char kInspectionType[] = "takt.quality.v1.InspectionRecorded";
constexpr char kViolationType[] = "takt.quality.v1.RuleViolated";
constexpr size_t kLoadBatch = 10000;
constexpr uint32_t kMaxInspected = 1000000000;

constexpr int kMaxChartPoints = 50000;
constexpr uint32_t kDispersionRule = 100;

const absl::Time kEarliest = absl::FromCivil(absl::CivilDay(2000, 1, 1), absl::UTCTimeZone());

// What identifies a sample's content (a resend must match it): the sample
// without its source key. Computed from a request, or from the event it
// became (after a restart), to the same value.
size_t SampleHash(v1::Sample s) {
  s.clear_source_id();
  s.clear_source_sequence();
  return absl::HashOf(s.SerializeAsString());
}

std::optional<size_t> RecordedSampleHash(const eventlog::Envelope& e) {
  v1::Sample s;
  *s.mutable_source_time() = e.occurred_time();
  if (e.event_type() == "takt.quality.v1.SubgroupMeasured") {
    v1::SubgroupMeasured m;
    if (!m.ParseFromString(e.payload())) return std::nullopt;
    s.set_characteristic(m.characteristic());
    s.set_lot(m.lot());
    *s.mutable_measurement()->mutable_values() = m.values();
    s.mutable_measurement()->set_unit(m.unit());
  } else if (e.event_type() == "takt.quality.v1.InspectionRecorded") {
    v1::InspectionRecorded r;
    if (!r.ParseFromString(e.payload())) return std::nullopt;
    s.set_characteristic(r.characteristic());
    s.set_lot(r.lot());
    s.mutable_inspection()->set_inspected(r.inspected());
    s.mutable_inspection()->set_failed(r.failed());
    *s.mutable_inspection()->mutable_defects() = r.defects();
    s.mutable_inspection()->set_reinspection(r.reinspection());
  } else {
    return std::nullopt;
  }
  return SampleHash(std::move(s));
}

absl::CivilDay DayOf(model::ModelStore* models, const std::string& facility, absl::Time t) {
  const kpi::FacilityCalendar* cal = models->Calendar(facility);
  return cal != nullptr ? cal->ProductionDay(t) : absl::ToCivilDay(t, absl::UTCTimeZone());
}

// The NCR a recorded event asks for (ncr_requested), as raised from the
// measurement stream: live after the append, and again after a restart
// when the record does not hold it.
std::optional<v1::NcrRaised> NcrOwed(const eventlog::Envelope& e) {
  v1::NcrRaised raise;
  raise.set_source_sequence(e.sequence());
  if (e.event_type() == kViolationType) {
    v1::RuleViolated v;
    if (!v.ParseFromString(e.payload()) || !v.ncr_requested()) return std::nullopt;
    raise.set_origin("rule_violation");
    raise.set_characteristic(v.characteristic());
    raise.set_work_unit(v.work_unit());
    raise.set_lot(v.lot());
    raise.set_description(absl::StrCat("rule ", v.rule(), " (", v.rule_name(), ") on the ",
                                       v.chart(), " chart"));
    return raise;
  }
  if (e.event_type() == kInspectionType) {
    v1::InspectionRecorded r;
    if (!r.ParseFromString(e.payload()) || !r.ncr_requested() || r.failed() == 0) return std::nullopt;
    raise.set_origin("failed_inspection");
    raise.set_characteristic(r.characteristic());
    raise.set_work_unit(r.work_unit());
    raise.set_lot(r.lot());
    raise.set_quantity(r.failed());
    if (r.defects_size() > 0) raise.set_defect_code(r.defects(0).code());
    raise.set_description(absl::StrCat(r.failed(), " of ", r.inspected(), " units failed inspection"));
    return raise;
  }
  return std::nullopt;
}

std::vector<uint32_t> ExtraRules(const std::optional<CharacteristicAt>& at) {
  if (!at) return {};
  return {at->characteristic->extra_rules().begin(), at->characteristic->extra_rules().end()};
}

}  // namespace

const v1::LimitsApproved& LimitsAt(const QualityBook& book, const std::string& characteristic,
                                   uint64_t sequence) {
  static const v1::LimitsApproved kNone;
  const auto& all = book.Limits(characteristic);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (it->applies_after_sequence() < sequence) return *it;
  }
  return kNone;
}

Quality::Quality(eventlog::EventLog* log, model::ModelStore* models, rollup::RollupStore* rollups)
    : log_(log),
      models_(models),
      rollups_(rollups),
      books_(log, {.context = kQualityContext,
                   .stream = [](const std::string& f) { return QmsStream(f); },
                   .initial = [](const std::string&) { return QualityBook(); }}) {}

// ---- Plans -------------------------------------------------------------------

absl::StatusOr<v1::ApplyPlansResponse> Quality::ApplyPlans(const v1::ApplyPlansRequest& request,
                                                           const es::CommandOrigin& origin) {
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(request.facility()));
  if (request.plans_size() + request.defect_codes_size() == 0) {
    return absl::InvalidArgumentError("the request has no plans and no defect codes");
  }
  const std::string facility = request.facility();
  UnitExists unit_exists = [&](const std::string& unit) {
    bool found = false;
    models_->Read([&](const model::EnterpriseModel& m) { found = m.HasWorkUnit(facility, unit); });
    return found;
  };
  return books_.Execute<v1::ApplyPlansResponse>(
      facility, request, origin,
      [&](QualityBook& scratch, es::Decided& out, v1::ApplyPlansResponse& response) -> absl::Status {
        TAKT_ASSIGN_OR_RETURN(
            auto codes, out.EmitEach<QualityBook>(
                            scratch, "defect_codes", request.defect_codes_size(),
                            [&](int i, const QualityBook& s) { return DecideDefectCode(s, request.defect_codes(i)); }));
        TAKT_ASSIGN_OR_RETURN(
            auto plans, out.EmitEach<QualityBook>(
                            scratch, "plans", request.plans_size(),
                            [&](int i, const QualityBook& s) { return DecidePlan(s, request.plans(i), unit_exists); }));
        response.set_changed(codes.changed + plans.changed);
        response.set_unchanged(codes.unchanged + plans.unchanged);
        return absl::OkStatus();
      },
      request.validate_only());
}

// ---- Samples -------------------------------------------------------------------

Quality::Slot* Quality::SlotOf(const std::string& facility) {
  absl::MutexLock lock(&slots_mu_);
  std::unique_ptr<Slot>& slot = slots_[facility];
  if (!slot) slot = std::make_unique<Slot>();
  return slot.get();
}

absl::Status Quality::RefreshBook(FacilityState& f, const std::string& facility) {
  // The head first: a command landing between the two is seen next time.
  TAKT_ASSIGN_OR_RETURN(uint64_t head, books_.Head(facility));
  if (head == f.book_head) return absl::OkStatus();
  TAKT_ASSIGN_OR_RETURN(f.book, books_.Snapshot(facility));
  f.book_head = head;
  return absl::OkStatus();
}

absl::StatusOr<Quality::FacilityState*> Quality::Load(Slot& slot, const std::string& facility) {
  if (slot.state) return slot.state.get();
  auto f = std::make_unique<FacilityState>();
  TAKT_RETURN_IF_ERROR(RefreshBook(*f, facility));
  const QualityBook& book = f->book;
  const eventlog::StreamId stream{kQualityContext, facility};
  for (;;) {
    TAKT_ASSIGN_OR_RETURN(auto events, log_->ReadStream(stream, f->head + 1, kLoadBatch));
    if (events.empty()) break;
    for (const eventlog::LoggedEvent& logged : events) {
      const eventlog::Envelope& e = logged.envelope;
      f->head = e.sequence();
      if (!e.source_id().empty()) {
        if (auto hash = RecordedSampleHash(e)) f->seen[e.source_id()][e.source_sequence()] = *hash;
      }
      const absl::Time at = ToTime(e.occurred_time());
      if (e.event_type() == kSubgroupType) {
        v1::SubgroupMeasured m;
        if (!m.ParseFromString(e.payload())) return absl::DataLossError("SubgroupMeasured does not parse");
        Series& s = f->series[m.characteristic()];
        std::vector<double> values(m.values().begin(), m.values().end());
        Point p = VariablesPoint(m.chart(), values, nullptr);
        if (m.chart() == v1::I_MR) {
          p.dispersion = m.moving_range();
          p.has_dispersion = m.has_moving_range();
          if (!values.empty()) s.last_x = values[0];
        }
        p.sequence = e.sequence();
        p.time = at;
        Evaluate(book, *f, m.characteristic(), m.chart(),
                 {m.extra_rules().begin(), m.extra_rules().end()}, p, m.work_unit());
      } else if (e.event_type() == kInspectionType) {
        v1::InspectionRecorded r;
        if (!r.ParseFromString(e.payload())) return absl::DataLossError("InspectionRecorded does not parse");
        Point p = AttributesPoint(r.chart(), r.inspected(), r.failed(), static_cast<double>(DefectsOf(r)));
        p.sequence = e.sequence();
        p.time = at;
        Evaluate(book, *f, r.characteristic(), r.chart(),
                 {r.extra_rules().begin(), r.extra_rules().end()}, p, r.work_unit());
      } else if (e.event_type() == kViolationType) {
        v1::RuleViolated v;
        if (!v.ParseFromString(e.payload())) return absl::DataLossError("RuleViolated does not parse");
        Record(*f, v);
      }
      // An NCR the event asked for and the record does not hold yet (a
      // crash between the two streams' appends).
      if (auto owed = NcrOwed(e); owed && !book.HasNcrFrom(e.sequence())) {
        f->pending_ncrs.push_back({e.sequence(), *std::move(owed)});
      }
    }
  }
  FacilityState* out = f.get();
  slot.state = std::move(f);
  return out;
}

std::vector<v1::RuleViolated> Quality::Evaluate(const QualityBook& book, FacilityState& f,
                                                const std::string& characteristic,
                                                v1::ChartType chart,
                                                const std::vector<uint32_t>& extra,
                                                const Point& point, const std::string& work_unit) {
  Series& s = f.series[characteristic];
  if (IsVariables(chart)) s.chart = chart;
  const v1::LimitsApproved& limits = LimitsAt(book, characteristic, point.sequence);
  const auto fired = s.engine.Add(point, limits, extra);
  s.points.push_back(point);
  s.revision.push_back(limits.revision());
  s.rules.emplace_back();
  std::vector<v1::RuleViolated> out;
  for (const RuleEngine::Fired& fire : fired) {
    v1::RuleViolated v;
    v.set_characteristic(characteristic);
    v.set_rule(static_cast<uint32_t>(fire.rule));
    v.set_rule_name(RuleName(fire.rule));
    v.set_limits_revision(limits.revision());
    v.set_work_unit(work_unit);
    if (fire.dispersion) {
      const Band b = DispersionBand(limits);
      v.set_chart(DispersionName(limits.chart()));
      v.add_sequences(point.sequence);
      v.add_values(point.dispersion);
      v.set_center(b.center);
      v.set_upper(b.upper);
      v.set_lower(b.lower);
    } else {
      const Band b = PrimaryBand(limits, point);
      v.set_chart(PrimaryName(limits.chart()));
      for (const Point& p : s.engine.Last(fire.length)) {
        v.add_sequences(p.sequence);
        v.add_values(p.value);
      }
      v.set_center(b.center);
      v.set_upper(b.upper);
      v.set_lower(b.lower);
    }
    out.push_back(std::move(v));
  }
  return out;
}

void Quality::Record(FacilityState& f, const v1::RuleViolated& v) {
  Series& s = f.series[v.characteristic()];
  if (v.sequences_size() > 0) {
    const uint64_t at = v.sequences(v.sequences_size() - 1);
    auto it = std::lower_bound(s.points.begin(), s.points.end(), at,
                               [](const Point& p, uint64_t seq) { return p.sequence < seq; });
    if (it != s.points.end() && it->sequence == at) {
      // Rules on the R, S or MR chart are kept as kDispersionRule + rule.
      const bool dispersion = !v.chart().empty() && v.chart() == DispersionName(s.chart);
      s.rules[static_cast<size_t>(it - s.points.begin())].push_back(
          dispersion ? kDispersionRule + v.rule() : v.rule());
    }
  }
  s.violations.push_back(v);
}

absl::StatusOr<v1::SampleAck> Quality::Ingest(const v1::SampleBatch& batch, absl::Time now,
                                              const std::string& actor) {
  if (batch.samples_size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat("batch ", batch.batch_id(), " has no samples"));
  }
  if (batch.samples_size() > kMaxSamplesPerBatch) {
    return WithField(WithReason(absl::InvalidArgumentError(absl::StrCat("batch ", batch.batch_id(), " has ",
                                                   batch.samples_size(), " samples; at most ",
                                                   kMaxSamplesPerBatch, " per batch (split it)")), "BATCH_TOO_LARGE"), "samples");
  }
  const std::string& facility = batch.facility();
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(facility));
  v1::SampleAck ack;
  ack.set_batch_id(batch.batch_id());
  std::vector<v1::RuleViolated> violations;
  std::vector<Pending> pending;

  Slot* slot = SlotOf(facility);
  absl::MutexLock lock(&slot->mu);
  TAKT_ASSIGN_OR_RETURN(FacilityState * f, Load(*slot, facility));
  // RefreshBook changes nothing when it fails: the state stays.
  TAKT_RETURN_IF_ERROR(RefreshBook(*f, facility));
  eventlog::AppendRequest append;
  append.context = kQualityContext;
  append.facility = facility;
  append.expected_sequence = static_cast<int64_t>(f->head);
  // Screened against the facility's record as of its last change (cached:
  // other facilities' batches are not held up by this one).
  const auto screen = [&](const QualityBook& book) {
    size_t bytes = 0;
    for (int i = 0; i < batch.samples_size(); ++i) {
      const v1::Sample& s = batch.samples(i);
      auto reject = [&](absl::StatusCode code, std::string reason) {
        v1::SampleRejection* r = ack.add_rejected();
        r->set_index(static_cast<uint32_t>(i));
        if (s.source_id().size() <= kMaxIdLength) r->set_source_id(s.source_id());
        r->set_source_sequence(s.source_sequence());
        r->set_code(static_cast<int>(code));
        r->set_reason(std::move(reason));
      };
      // One append holds the batch's events and its signals: what would not
      // fit is refused for a later batch (the rest of this one is durable).
      if (append.events.size() + kLastRule + 2 > eventlog::kMaxEventsPerAppend ||
          bytes + 64 * 1024 > eventlog::kMaxAppendBytes) {
        reject(absl::StatusCode::kResourceExhausted,
               "the batch's events and rule violations filled one append: resend this sample in a "
               "later batch");
        continue;
      }
      if (s.source_id().empty()) {
        reject(absl::StatusCode::kInvalidArgument, "source_id must be set (resends are matched by it)");
        continue;
      }
      if (absl::Status id = ValidateId("source_id", s.source_id()); !id.ok()) {
        reject(absl::StatusCode::kInvalidArgument, std::string(id.message()));
        continue;
      }
      if (absl::Status id = ValidateId("characteristic", s.characteristic()); !id.ok()) {
        reject(absl::StatusCode::kInvalidArgument, std::string(id.message()));
        continue;
      }
      if (!s.lot().empty()) {
        if (absl::Status id = ValidateId("lot", s.lot()); !id.ok()) {
          reject(absl::StatusCode::kInvalidArgument, std::string(id.message()));
          continue;
        }
      }
      if (!s.has_source_time()) {
        reject(absl::StatusCode::kInvalidArgument, "source_time must be set");
        continue;
      }
      const absl::Time at = ToTime(s.source_time());
      if (at > now + kMaxFutureSkew) {
        reject(absl::StatusCode::kInvalidArgument,
               absl::StrCat("source_time ", absl::FormatTime(at), " is in the future"));
        continue;
      }
      if (at < kEarliest) {
        reject(absl::StatusCode::kOutOfRange,
               absl::StrCat("source_time ", absl::FormatTime(at),
                            " is before the horizon 2000-01-01 (a gateway clock reset?)"));
        continue;
      }
      // A resend: known source key with the same content (checked before
      // the plan, which may have changed since it was recorded).
      const size_t hash = SampleHash(s);
      auto& keys = f->seen[s.source_id()];
      if (auto known = keys.find(s.source_sequence()); known != keys.end()) {
        if (known->second == hash) {
          ack.set_duplicates(ack.duplicates() + 1);
        } else {
          reject(absl::StatusCode::kAlreadyExists,
                 absl::StrCat("source sequence ", s.source_sequence(), " of '", s.source_id(),
                              "' was recorded with other content"));
        }
        continue;
      }
      auto plan = book.Find(s.characteristic(), DayOf(models_, facility, at));
      if (!plan) {
        reject(absl::StatusCode::kNotFound,
               absl::StrCat("characteristic '", s.characteristic(), "' is in no plan of facility '",
                            facility, "' in force on that day"));
        continue;
      }
      const v1::Characteristic& c = *plan->characteristic;
      Series& series = f->series[c.id()];
      eventlog::Envelope e;
      e.set_schema_version(1);
      e.set_actor(actor);
      e.set_source_id(s.source_id());
      e.set_source_sequence(s.source_sequence());
      *e.mutable_occurred_time() = s.source_time();
      Point point;
      std::optional<double> next_x;
      if (s.has_measurement()) {
        const v1::Measurement& m = s.measurement();
        if (!IsVariables(c.chart())) {
          reject(absl::StatusCode::kInvalidArgument,
                 absl::StrCat("characteristic '", c.id(), "' is an attribute (",
                              ChartName(c.chart()), " chart): send an inspection"));
          continue;
        }
        if (m.values_size() != static_cast<int>(c.subgroup_size())) {
          reject(absl::StatusCode::kInvalidArgument,
                 absl::StrCat("subgroup of ", m.values_size(), " values; characteristic '", c.id(),
                              "' takes subgroups of ", c.subgroup_size()));
          continue;
        }
        if (m.unit() != c.unit()) {
          reject(absl::StatusCode::kInvalidArgument,
                 absl::StrCat("unit '", m.unit().substr(0, 16), "' is not the plan's '", c.unit(), "'"));
          continue;
        }
        std::string bad;
        const double reach = kMaxTolerancesFromNominal * (c.upper_spec() - c.lower_spec());
        for (int j = 0; j < m.values_size() && bad.empty(); ++j) {
          const double x = m.values(j);
          if (!std::isfinite(x)) {
            bad = absl::StrCat("values[", j, "] is not a finite number");
          } else if (std::fabs(x - c.nominal()) > reach) {
            bad = absl::StrCat("values[", j, "] = ", x, " is more than ", kMaxTolerancesFromNominal,
                               " tolerances from nominal ", c.nominal(), " (a gauge error?)");
          }
        }
        if (!bad.empty()) {
          reject(absl::StatusCode::kInvalidArgument, bad);
          continue;
        }
        v1::SubgroupMeasured event;
        event.set_characteristic(c.id());
        event.set_work_unit(plan->plan->work_unit());
        event.set_product(plan->plan->product());
        event.set_lot(s.lot());
        event.set_unit(c.unit());
        *event.mutable_values() = m.values();
        event.set_nominal(c.nominal());
        event.set_resolution(c.resolution());
        event.set_lower_spec(c.lower_spec());
        event.set_upper_spec(c.upper_spec());
        event.set_chart(c.chart());
        *event.mutable_extra_rules() = c.extra_rules();
        std::vector<double> values(m.values().begin(), m.values().end());
        const double previous = series.last_x.value_or(0);
        point = VariablesPoint(c.chart(), values,
                               c.chart() == v1::I_MR && series.last_x ? &previous : nullptr);
        if (c.chart() == v1::I_MR) {
          event.set_has_moving_range(point.has_dispersion);
          event.set_moving_range(point.dispersion);
          next_x = values[0];
        }
        e.set_event_type(kSubgroupType);
        e.set_payload(event.SerializeAsString());
      } else if (s.has_inspection()) {
        const v1::Inspection& in = s.inspection();
        if (IsVariables(c.chart())) {
          reject(absl::StatusCode::kInvalidArgument,
                 absl::StrCat("characteristic '", c.id(), "' is a variable (", ChartName(c.chart()),
                              " chart): send a measurement"));
          continue;
        }
        if (in.inspected() == 0 || in.inspected() > kMaxInspected || in.failed() > in.inspected()) {
          reject(absl::StatusCode::kInvalidArgument,
                 absl::StrCat("inspected ", in.inspected(), ", failed ", in.failed(),
                              ": inspected must be 1..", kMaxInspected, " and failed at most inspected"));
          continue;
        }
        if ((c.chart() == v1::NP || c.chart() == v1::C) && in.inspected() != c.subgroup_size()) {
          reject(absl::StatusCode::kInvalidArgument,
                 absl::StrCat("an ", ChartName(c.chart()), " chart takes inspections of ",
                              c.subgroup_size(), " units, not ",
                              in.inspected()));
          continue;
        }
        std::string bad;
        uint64_t defects = 0;
        for (const v1::DefectCount& d : in.defects()) {
          const bool listed = c.defect_codes_size() == 0
                                  ? book.KnowsDefectCode(d.code())
                                  : std::find(c.defect_codes().begin(), c.defect_codes().end(),
                                              d.code()) != c.defect_codes().end();
          if (d.code().size() > kMaxIdLength || !listed) {
            bad = absl::StrCat("defect code '", d.code().substr(0, kMaxIdLength),
                               "' is not one of characteristic '", c.id(), "'s codes");
            break;
          }
          if (&d != &in.defects(0) &&
              std::any_of(in.defects().begin(), in.defects().begin() + (&d - &in.defects(0)),
                          [&](const v1::DefectCount& e) { return e.code() == d.code(); })) {
            bad = absl::StrCat("defect code '", d.code(), "' is listed twice");
            break;
          }
          defects += d.count();
        }
        if (bad.empty() && defects > static_cast<uint64_t>(kMaxInspected) * 1000) {
          bad = "defect counts are implausibly large";
        }
        if (!bad.empty()) {
          reject(absl::StatusCode::kInvalidArgument, bad);
          continue;
        }
        v1::InspectionRecorded event;
        event.set_characteristic(c.id());
        event.set_work_unit(plan->plan->work_unit());
        event.set_product(plan->plan->product());
        event.set_lot(s.lot());
        event.set_inspected(in.inspected());
        event.set_failed(in.failed());
        *event.mutable_defects() = in.defects();
        event.set_reinspection(in.reinspection());
        event.set_opportunities_per_unit(std::max<uint32_t>(1, c.opportunities_per_unit()));
        event.set_chart(c.chart());
        *event.mutable_extra_rules() = c.extra_rules();
        event.set_ncr_requested(c.ncr_on_failure() && in.failed() > 0);
        point = AttributesPoint(c.chart(), in.inspected(), in.failed(),
                                static_cast<double>(DefectsOf(event)));
        e.set_event_type(kInspectionType);
        e.set_payload(event.SerializeAsString());
      } else {
        reject(absl::StatusCode::kInvalidArgument, "sample has no kind (measurement or inspection)");
        continue;
      }
      keys.emplace(s.source_sequence(), hash);
      bytes += e.ByteSizeLong() + 256;
      if (next_x) series.last_x = next_x;
      const uint64_t seq = f->head + append.events.size() + 1;
      point.sequence = seq;
      point.time = at;
      append.events.push_back(std::move(e));
      ack.set_accepted(ack.accepted() + 1);
      const size_t before = violations.size();
      for (v1::RuleViolated& v : Evaluate(book, *f, c.id(), c.chart(), ExtraRules(plan), point,
                                          plan->plan->work_unit())) {
        v.set_lot(s.lot());
        v.set_ncr_requested(c.ncr_on_violation());
        eventlog::Envelope ve;
        ve.set_schema_version(1);
        ve.set_actor(actor);
        ve.set_event_type(kViolationType);
        *ve.mutable_occurred_time() = s.source_time();
        ve.set_payload(v.SerializeAsString());
        ve.set_sequence(f->head + append.events.size() + 1);  // for NcrOwed; the log assigns it
        if (auto owed = NcrOwed(ve)) pending.push_back({ve.sequence(), *std::move(owed)});
        append.events.push_back(std::move(ve));
        violations.push_back(std::move(v));
      }
      if (s.has_inspection()) {
        eventlog::Envelope probe = append.events[append.events.size() - 1 - (violations.size() - before)];
        probe.set_sequence(seq);
        if (auto owed = NcrOwed(probe)) pending.push_back({seq, *std::move(owed)});
      }
    }
  };
  screen(f->book);
  if (ack.rejected_size() > kMaxListedRejections) {
    const int extra = ack.rejected_size() - kMaxListedRejections;
    ack.mutable_rejected()->DeleteSubrange(kMaxListedRejections, extra);
    ack.set_rejected_not_listed(static_cast<uint32_t>(extra));
  }
  if (append.events.empty()) {
    ack.set_head_sequence(f->head);
    return ack;
  }
  auto head = es::AppendScreened(*log_, std::move(append), f->head);
  if (!head.ok()) {
    slot->state.reset();  // reloaded from the log on the next batch (frees f)
    return head.status();
  }
  f->head = *head;
  for (const v1::RuleViolated& v : violations) Record(*f, v);
  ack.set_violations(static_cast<uint32_t>(violations.size()));
  ack.set_head_sequence(f->head);
  f->pending_ncrs.insert(f->pending_ncrs.end(), pending.begin(), pending.end());
  if (!f->pending_ncrs.empty()) {
    // The data is durable either way; an NCR not raised now is raised at
    // the next batch or the next start.
    std::vector<Pending> left;
    for (const Pending& p : f->pending_ncrs) {
      v1::NcrRequest request;
      request.set_facility(facility);
      request.set_request_id(absl::StrCat("auto-ncr-", p.sequence));
      *request.mutable_command()->mutable_raise() = p.raise;
      auto raised = books_.Execute<v1::NcrResponse>(
          facility, request, {actor, now},
          [&](QualityBook& scratch, es::Decided& out, v1::NcrResponse&) -> absl::Status {
            TAKT_ASSIGN_OR_RETURN(auto events, DecideNcrAuto(scratch, p, now));
            for (es::Event& ev : events) TAKT_RETURN_IF_ERROR(out.Emit(scratch, std::move(ev)));
            return absl::OkStatus();
          });
      if (raised.ok()) continue;
      const absl::StatusCode code = raised.status().code();
      if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kAborted ||
          code == absl::StatusCode::kDeadlineExceeded || code == absl::StatusCode::kInternal) {
        left.push_back(p);  // retried at the next batch
      } else {
        log::Warn(absl::StrCat("quality/", facility, ": the NCR for sequence ", p.sequence,
                               " cannot be raised: ", raised.status().ToString()));
      }
    }
    f->pending_ncrs = std::move(left);
  }
  return ack;
}

absl::StatusOr<std::vector<es::Event>> Quality::DecideNcrAuto(const QualityBook& book,
                                                              const Pending& p, absl::Time now) {
  if (book.HasNcrFrom(p.sequence)) return std::vector<es::Event>{};
  // One open NCR per characteristic and origin: further signals while it
  // is open are its evidence (they stay in the chart and the log), not new
  // reports.
  for (const auto& [id, n] : book.ncrs()) {
    if (!n.closed && n.raised.origin() == p.raise.origin() &&
        n.raised.characteristic() == p.raise.characteristic()) {
      return std::vector<es::Event>{};
    }
  }
  v1::NcrCommand command;
  *command.mutable_raise() = p.raise;
  command.mutable_raise()->set_ncr_id(absl::StrCat("ncr-s", p.sequence));
  return DecideNcr(book, command, now, "");
}

// ---- Limits and charts ----------------------------------------------------------

absl::StatusOr<v1::LimitsApproved> Quality::ApproveLimits(const v1::ApproveLimitsRequest& request,
                                                          const es::CommandOrigin& origin) {
  const std::string& facility = request.facility();
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(facility));
  TAKT_RETURN_IF_ERROR(ValidateId("characteristic", request.characteristic()));
  if (!request.has_baseline_from() || !request.has_baseline_to()) {
    return absl::InvalidArgumentError("baseline_from and baseline_to must be set");
  }
  const absl::Time from = ToTime(request.baseline_from()), to = ToTime(request.baseline_to());
  if (!(from < to)) return absl::InvalidArgumentError("baseline_from must be before baseline_to");
  if (request.reason().empty()) return absl::InvalidArgumentError("reason must be set (why these limits)");
  Slot* slot = SlotOf(facility);
  absl::MutexLock lock(&slot->mu);
  TAKT_ASSIGN_OR_RETURN(FacilityState * f, Load(*slot, facility));
  TAKT_ASSIGN_OR_RETURN(QualityBook book, books_.Snapshot(facility));
  auto plan = book.Latest(request.characteristic());
  if (!plan) {
    return absl::NotFoundError(absl::StrCat("characteristic '", request.characteristic(),
                                            "' is in no plan of facility '", facility, "'"));
  }
  std::vector<Point> baseline;
  if (auto s = f->series.find(request.characteristic()); s != f->series.end()) {
    for (const Point& p : s->second.points) {
      if (p.time >= from && p.time < to) baseline.push_back(p);
    }
  }
  const v1::Characteristic& c = *plan->characteristic;
  TAKT_ASSIGN_OR_RETURN(v1::LimitsApproved limits,
                        ComputeLimits(c.chart(), static_cast<int>(c.subgroup_size()), baseline));
  limits.set_characteristic(c.id());
  limits.set_baseline_from_us(absl::ToUnixMicros(from));
  limits.set_baseline_to_us(absl::ToUnixMicros(to));
  limits.set_reason(request.reason());
  limits.set_applies_after_sequence(f->head);
  return books_.Execute<v1::LimitsApproved>(
      facility, request, origin,
      [&](QualityBook& scratch, es::Decided& out, v1::LimitsApproved& response) -> absl::Status {
        TAKT_ASSIGN_OR_RETURN(auto events, DecideLimits(scratch, limits));
        for (es::Event& e : events) {
          response.ParseFromString(e.payload);
          TAKT_RETURN_IF_ERROR(out.Emit(scratch, std::move(e)));
        }
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::ChartResponse> Quality::Chart(const v1::ChartRequest& request) {
  const std::string& facility = request.facility();
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(facility));
  TAKT_RETURN_IF_ERROR(ValidateId("characteristic", request.characteristic()));
  const absl::Time from = request.has_from() ? ToTime(request.from()) : absl::InfinitePast();
  const absl::Time to = request.has_to() ? ToTime(request.to()) : absl::InfiniteFuture();
  if (!(from < to)) return absl::InvalidArgumentError("from must be before to");
  v1::ChartResponse out;
  Slot* slot = SlotOf(facility);
  absl::MutexLock lock(&slot->mu);
  TAKT_ASSIGN_OR_RETURN(FacilityState * f, Load(*slot, facility));
  absl::Status status;
  TAKT_RETURN_IF_ERROR(books_.Read(facility, [&](const QualityBook& book) {
    auto plan = book.Latest(request.characteristic());
    if (!plan) {
      status = absl::NotFoundError(absl::StrCat("characteristic '", request.characteristic(),
                                                "' is in no plan of facility '", facility, "'"));
      return;
    }
    *out.mutable_characteristic() = *plan->characteristic;
    out.set_chart(plan->characteristic->chart());
    const auto& limits = book.Limits(request.characteristic());
    auto s = f->series.find(request.characteristic());
    if (s == f->series.end()) return;
    const Series& series = s->second;
    uint64_t first = 0, last = 0;
    uint32_t last_revision = 0;
    out.mutable_points()->Reserve(
        static_cast<int>(std::min<size_t>(series.points.size(), kMaxChartPoints)));
    for (size_t i = 0; i < series.points.size(); ++i) {
      const Point& p = series.points[i];
      if (p.time < from || p.time >= to) continue;
      if (out.points_size() >= kMaxChartPoints) {
        status = absl::OutOfRangeError(absl::StrCat(
            "the window holds more than ", kMaxChartPoints, " points: narrow from/to"));
        return;
      }
      last_revision = series.revision[i];
      if (first == 0) first = p.sequence;
      last = p.sequence;
      v1::ChartPoint* cp = out.add_points();
      cp->set_sequence(p.sequence);
      *cp->mutable_time() = ToProto(p.time);
      cp->set_value(p.value);
      cp->set_dispersion(p.dispersion);
      const uint32_t rev = series.revision[i];
      cp->set_limits_revision(rev);
      if (rev > 0 && rev <= limits.size()) {
        const Band b = PrimaryBand(limits[rev - 1], p);
        cp->set_center(b.center);
        cp->set_upper(b.upper);
        cp->set_lower(b.lower);
      }
      for (uint32_t r : series.rules[i]) {
        if (r > kDispersionRule) {
          cp->add_dispersion_rules(r - kDispersionRule);
        } else {
          cp->add_rules(r);
        }
      }
    }
    if (last_revision > 0 && last_revision <= limits.size()) {
      *out.mutable_limits() = limits[last_revision - 1];
    }
    for (const v1::RuleViolated& v : series.violations) {
      const uint64_t at = v.sequences_size() ? v.sequences(v.sequences_size() - 1) : 0;
      if (first != 0 && at >= first && at <= last) *out.add_violations() = v;
    }
  }));
  if (!status.ok()) return status;
  return out;
}

// ---- Capability ------------------------------------------------------------------

absl::StatusOr<v1::Capability> Quality::GetCapability(const v1::CapabilityRequest& request) {
  if (rollups_ == nullptr) {
    return absl::FailedPreconditionError("capability reads the rollups' moments; none given");
  }
  TAKT_RETURN_IF_ERROR(ValidateId("characteristic", request.characteristic()));
  const kpi::FamilyRegistration* family = kpi::FindFamily(kCapabilityFamily);
  if (family == nullptr) return absl::InternalError("the capability family is not registered");
  TAKT_ASSIGN_OR_RETURN(auto parts, Parts(request.scope(), request.from(), request.to()));
  kpi::Values pooled(kMomentCount, 0);
  std::optional<Spec> spec;
  std::string spec_from;
  v1::Capability out;
  for (const rollup::ScopePart& part : parts) {
    TAKT_ASSIGN_OR_RETURN(kpi::Values m,
                          rollups_->SumFamilyUnitDays(family->family, part.facility,
                                                      request.characteristic(), part.from, part.to));
    if (m.size() != kMomentCount || m[kN] == 0) continue;
    std::optional<Spec> found;
    TAKT_RETURN_IF_ERROR(books_.Read(part.facility, [&](const QualityBook& book) {
      if (auto plan = book.Latest(request.characteristic())) {
        const v1::Characteristic& c = *plan->characteristic;
        found = Spec{c.nominal(), c.resolution(), c.lower_spec(), c.upper_spec(),
                     static_cast<int>(c.subgroup_size())};
      }
    }));
    if (!found) continue;
    const Spec here = *found;
    if (spec && (spec->nominal != here.nominal || spec->resolution != here.resolution ||
                 spec->lower != here.lower || spec->upper != here.upper ||
                 spec->subgroup_size != here.subgroup_size)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "characteristic '", request.characteristic(), "' has other specifications in '",
          part.facility, "' than in '", spec_from,
          "' (nominal, limits, resolution and subgroup size must agree to pool)"));
    }
    spec = here;
    spec_from = part.facility;
    kpi::AddInto(pooled, m);
    out.add_facilities(part.facility);
  }
  if (!spec) {
    return absl::NotFoundError(absl::StrCat("no measurements of '", request.characteristic(),
                                            "' in ", request.scope(), " from ", request.from(),
                                            " to ", request.to()));
  }
  TAKT_ASSIGN_OR_RETURN(CapabilityResult r, ComputeCapability(pooled, *spec));
  out.set_n(static_cast<uint64_t>(r.n));
  out.set_subgroups(static_cast<uint64_t>(r.subgroups));
  out.set_mean(r.mean);
  out.set_sigma_within(r.sigma_within);
  out.set_sigma_overall(r.sigma_overall);
  out.set_cp(r.cp);
  out.set_cpk(r.cpk);
  out.set_pp(r.pp);
  out.set_ppk(r.ppk);
  out.set_estimator(r.estimator);
  return out;
}

absl::StatusOr<std::vector<rollup::ScopePart>> Quality::Parts(const std::string& scope_name,
                                                              const std::string& from_day,
                                                              const std::string& to_day) {
  TAKT_ASSIGN_OR_RETURN(rollup::Scope scope,
                        rollup::ParseScope(scope_name.empty() ? "enterprise" : scope_name));
  if (scope.kind != rollup::Scope::Kind::kEnterprise && scope.kind != rollup::Scope::Kind::kRegion &&
      scope.kind != rollup::Scope::Kind::kFacility) {
    return absl::InvalidArgumentError("scope must be enterprise, regions/R or facilities/F");
  }
  auto from = model::ParseDay(from_day);
  auto to = model::ParseDay(to_day);
  if (!from.ok()) return absl::InvalidArgumentError(absl::StrCat("from: ", from.status().message()));
  if (!to.ok()) return absl::InvalidArgumentError(absl::StrCat("to: ", to.status().message()));
  if (*to < *from) return absl::InvalidArgumentError("to must not be before from");
  if (*to - *from > 3660) return absl::InvalidArgumentError("at most ten years at a time");
  absl::StatusOr<std::vector<rollup::ScopePart>> parts;
  models_->Read([&](const model::EnterpriseModel& m) { parts = rollup::ResolveScope(m, scope, *from, *to); });
  return parts;
}

absl::StatusOr<v1::RtyResponse> Quality::GetRty(const v1::RtyRequest& request) {
  if (rollups_ == nullptr) {
    return absl::FailedPreconditionError("rolled throughput yield reads the rollups' inspection steps");
  }
  TAKT_RETURN_IF_ERROR(ValidateId("product", request.product()));
  const kpi::FamilyRegistration* family = kpi::FindFamily(kStepsFamily);
  if (family == nullptr) return absl::InternalError("the inspection_steps family is not registered");
  TAKT_ASSIGN_OR_RETURN(auto parts, Parts(request.scope(), request.from(), request.to()));
  // The product's inspection steps (attribute characteristics of its
  // plans), pooled by characteristic id over the scope's facilities.
  std::map<std::string, v1::RtyStep> steps;
  v1::RtyResponse out;
  out.set_product(request.product());
  for (const rollup::ScopePart& part : parts) {
    std::vector<v1::RtyStep> here;
    TAKT_RETURN_IF_ERROR(books_.Read(part.facility, [&](const QualityBook& book) {
      for (const auto& [plan_id, versions] : book.plans()) {
        const v1::PlanVersionApplied& latest = versions.back();
        if (latest.product() != request.product()) continue;
        for (const v1::Characteristic& c : latest.characteristics()) {
          if (IsVariables(c.chart())) continue;
          v1::RtyStep step;
          step.set_characteristic(c.id());
          step.set_plan_id(plan_id);
          step.set_work_unit(latest.work_unit());
          here.push_back(std::move(step));
        }
      }
    }));
    if (here.empty()) continue;
    out.add_facilities(part.facility);
    for (v1::RtyStep& step : here) {
      TAKT_ASSIGN_OR_RETURN(kpi::Values v, rollups_->SumFamilyUnitDays(family->family, part.facility,
                                                                       step.characteristic(),
                                                                       part.from, part.to));
      auto [it, fresh] = steps.try_emplace(step.characteristic(), step);
      it->second.set_first_inspected(it->second.first_inspected() + static_cast<uint64_t>(v[kStepInspected]));
      it->second.set_first_passed(it->second.first_passed() + static_cast<uint64_t>(v[kStepPassed]));
    }
  }
  if (steps.empty()) {
    return absl::NotFoundError(absl::StrCat("product '", request.product(),
                                            "' has no attribute inspection steps in ", request.scope()));
  }
  double rty = 1;
  for (auto& [id, step] : steps) {
    if (step.first_inspected() == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "step '", id, "' (plan ", step.plan_id(), ") inspected nothing in the period: no yield"));
    }
    step.set_first_pass_yield(static_cast<double>(step.first_passed()) /
                              static_cast<double>(step.first_inspected()));
    rty *= step.first_pass_yield();
    *out.add_steps() = step;
  }
  out.set_rolled_throughput_yield(rty);
  return out;
}

// ---- NCR and CAPA -----------------------------------------------------------------

absl::StatusOr<v1::NcrResponse> Quality::ExecuteNcr(const v1::NcrRequest& request,
                                                    const es::CommandOrigin& origin) {
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(request.facility()));
  if (request.command().has_raise() && !request.command().raise().origin().empty() &&
      request.command().raise().origin() != "manual") {
    return absl::InvalidArgumentError(
        "origin is set by the service: an NCR raised through this call is 'manual'");
  }
  return books_.Execute<v1::NcrResponse>(
      request.facility(), request, origin,
      [&](QualityBook& scratch, es::Decided& out, v1::NcrResponse& response) -> absl::Status {
        std::string fresh;
        for (uint64_t n = scratch.ncr_count() + 1;; ++n) {
          fresh = absl::StrCat("ncr-", n);
          if (scratch.FindNcr(fresh) == nullptr) break;
        }
        TAKT_ASSIGN_OR_RETURN(auto events, DecideNcr(scratch, request.command(), origin.now, fresh));
        std::string id = NcrIdOf(request.command());
        if (id.empty()) id = fresh;
        for (es::Event& e : events) TAKT_RETURN_IF_ERROR(out.Emit(scratch, std::move(e)));
        if (const Ncr* n = scratch.FindNcr(id)) *response.mutable_ncr() = ViewOf(*n);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::ListNcrsResponse> Quality::ListNcrs(const v1::ListNcrsRequest& request) {
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(request.facility()));
  v1::ListNcrsResponse out;
  TAKT_RETURN_IF_ERROR(books_.Read(request.facility(), [&](const QualityBook& book) {
    for (const auto& [id, n] : book.ncrs()) {
      if (request.open_only() && n.closed) continue;
      *out.add_ncrs() = ViewOf(n);
    }
  }));
  return out;
}

absl::StatusOr<v1::ListCharacteristicsResponse> Quality::ListCharacteristics(
    const v1::ListCharacteristicsRequest& request) {
  TAKT_ASSIGN_OR_RETURN(auto parts, Parts(request.scope(), request.from(), request.to()));
  std::sort(parts.begin(), parts.end(),
            [](const rollup::ScopePart& a, const rollup::ScopePart& b) { return a.facility < b.facility; });
  std::map<std::string, v1::CharacteristicView> found;
  for (const rollup::ScopePart& part : parts) {
    TAKT_RETURN_IF_ERROR(books_.Read(part.facility, [&](const QualityBook& book) {
      for (const auto& [plan_id, versions] : book.plans()) {
        if (versions.empty()) continue;
        for (const v1::Characteristic& c : versions.back().characteristics()) {
          auto [it, added] = found.try_emplace(c.id());
          if (added) *it->second.mutable_characteristic() = c;
          auto& facilities = *it->second.mutable_facilities();
          if (facilities.empty() || facilities[facilities.size() - 1] != part.facility) {
            it->second.add_facilities(part.facility);
          }
        }
      }
    }));
  }
  v1::ListCharacteristicsResponse out;
  for (auto& [id, view] : found) *out.add_characteristics() = std::move(view);
  return out;
}

}  // namespace takt::quality
