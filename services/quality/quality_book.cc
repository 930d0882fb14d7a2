#include "services/quality/quality_book.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/model/enterprise_model.h"
#include "services/quality/spc.h"

namespace takt::quality {
namespace {

constexpr char kPlanType[] = "takt.quality.v1.PlanVersionApplied";
constexpr size_t kMaxText = 2000;          // notes, reasons, descriptions
constexpr double kMaxStepsPerTolerance = 1e4;
constexpr uint32_t kMaxUnitsPerInspection = 1000000;

template <typename T>
absl::Status ParseInto(const es::Event& e, T& out) {
  if (!out.ParseFromString(e.payload)) {
    return absl::DataLossError(absl::StrCat(e.type, " payload does not parse"));
  }
  return absl::OkStatus();
}

absl::Status Text(const std::string& field, const std::string& value, bool required) {
  if (required && value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " must be set"));
  if (value.size() > kMaxText) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", value.size(), " bytes; at most ", kMaxText));
  }
  return absl::OkStatus();
}

absl::Status CheckCharacteristic(const QualityBook& book, const v1::Characteristic& c,
                                 const std::set<std::string>& new_codes) {
  const std::string where = absl::StrCat("characteristic '", c.id(), "': ");
  auto bad = [&](std::string why) { return absl::InvalidArgumentError(where + why); };
  TAKT_RETURN_IF_ERROR(ValidateId("characteristic id", c.id()));
  TAKT_RETURN_IF_ERROR(Text("name", c.name(), false));
  if (c.chart() == v1::CHART_TYPE_UNSPECIFIED || !v1::ChartType_IsValid(c.chart())) {
    return bad("chart must be one of XBAR_R, XBAR_S, I_MR, P, NP, C, U");
  }
  for (uint32_t r : c.extra_rules()) {
    if (r < kFirstOptionalRule || r > kLastRule) {
      return bad(absl::StrCat("extra rule ", r, " is not one of the optional rules 5..8"));
    }
  }
  if (IsVariables(c.chart())) {
    if (!std::isfinite(c.nominal()) || !std::isfinite(c.lower_spec()) ||
        !std::isfinite(c.upper_spec()) || !std::isfinite(c.resolution())) {
      return bad("nominal, limits and resolution must be finite numbers");
    }
    if (!(c.lower_spec() < c.upper_spec())) {
      return bad(absl::StrCat("lower_spec ", c.lower_spec(), " must be below upper_spec ",
                              c.upper_spec()));
    }
    if (c.nominal() < c.lower_spec() || c.nominal() > c.upper_spec()) {
      return bad(absl::StrCat("nominal ", c.nominal(), " is outside the specification [",
                              c.lower_spec(), ", ", c.upper_spec(), "]"));
    }
    const double steps = (c.upper_spec() - c.lower_spec()) / c.resolution();
    if (!(c.resolution() > 0) || steps > kMaxStepsPerTolerance || steps < 10) {
      return bad(absl::StrCat("resolution ", c.resolution(),
                              " must divide the tolerance into 10 to 10,000 steps"));
    }
    if (c.unit().empty() || c.unit().size() > 16) return bad("unit must be set (at most 16 bytes)");
    if (c.chart() == v1::I_MR && c.subgroup_size() != 1) {
      return bad(absl::StrCat("I_MR charts individuals: subgroup_size must be 1, not ",
                              c.subgroup_size()));
    }
    if (c.chart() != v1::I_MR && (c.subgroup_size() < 2 || c.subgroup_size() > kMaxSubgroupSize)) {
      return bad(absl::StrCat(ChartName(c.chart()), " needs subgroup_size 2..", kMaxSubgroupSize,
                              ", not ", c.subgroup_size()));
    }
    if (c.defect_codes_size() > 0 || c.ncr_on_failure()) {
      return bad("defect_codes and ncr_on_failure belong to attribute charts (P, NP, C, U)");
    }
  } else {
    if ((c.chart() == v1::NP || c.chart() == v1::C) && c.subgroup_size() < 1) {
      return bad("NP and C charts need subgroup_size: the units of every inspection (or use P, U)");
    }
    if (c.subgroup_size() > kMaxUnitsPerInspection || c.opportunities_per_unit() > kMaxUnitsPerInspection) {
      return bad(absl::StrCat("subgroup_size and opportunities_per_unit are at most ",
                              kMaxUnitsPerInspection));
    }
    for (const std::string& code : c.defect_codes()) {
      TAKT_RETURN_IF_ERROR(ValidateId("defect code", code));
      if (!book.KnowsDefectCode(code) && !new_codes.contains(code)) {
        return absl::NotFoundError(where + absl::StrCat("defect code '", code,
                                                        "' is not in the catalogue"));
      }
    }
  }
  if (c.sampling_interval_s() < 0) return bad("sampling_interval_s must not be negative");
  return absl::OkStatus();
}

}  // namespace

absl::Status QualityBook::Apply(const es::Event& e) {
  if (e.type == kPlanType) {
    v1::PlanVersionApplied p;
    TAKT_RETURN_IF_ERROR(ParseInto(e, p));
    for (const auto& c : p.characteristics()) owner_[c.id()] = p.plan_id();
    plans_[p.plan_id()].push_back(std::move(p));
  } else if (e.type == "takt.quality.v1.DefectCodeDefined") {
    v1::DefectCodeDefined d;
    TAKT_RETURN_IF_ERROR(ParseInto(e, d));
    defect_codes_[d.code()] = std::move(d);
  } else if (e.type == "takt.quality.v1.LimitsApproved") {
    v1::LimitsApproved l;
    TAKT_RETURN_IF_ERROR(ParseInto(e, l));
    limits_[l.characteristic()].push_back(std::move(l));
  } else if (e.type == "takt.quality.v1.NcrRaised") {
    v1::NcrRaised r;
    TAKT_RETURN_IF_ERROR(ParseInto(e, r));
    Ncr& n = ncrs_[r.ncr_id()];
    n.opened = absl::FromUnixMicros(r.raised_us());
    if (r.source_sequence() != 0) ncr_sources_[r.source_sequence()] = r.ncr_id();
    n.raised = std::move(r);
  } else {
    // The NCR steps: all name an NCR that exists.
    auto ncr = [&](const std::string& id) -> absl::StatusOr<Ncr*> {
      auto it = ncrs_.find(id);
      if (it == ncrs_.end()) return absl::DataLossError(absl::StrCat(e.type, ": unknown NCR ", id));
      return &it->second;
    };
    if (e.type == "takt.quality.v1.NcrDispositioned") {
      v1::NcrDispositioned d;
      TAKT_RETURN_IF_ERROR(ParseInto(e, d));
      TAKT_ASSIGN_OR_RETURN(Ncr * n, ncr(d.ncr_id()));
      n->disposition = d.disposition();
    } else if (e.type == "takt.quality.v1.NcrContained") {
      v1::NcrContained d;
      TAKT_RETURN_IF_ERROR(ParseInto(e, d));
      TAKT_ASSIGN_OR_RETURN(Ncr * n, ncr(d.ncr_id()));
      n->containment = d.note();
    } else if (e.type == "takt.quality.v1.RootCauseRecorded") {
      v1::RootCauseRecorded d;
      TAKT_RETURN_IF_ERROR(ParseInto(e, d));
      TAKT_ASSIGN_OR_RETURN(Ncr * n, ncr(d.ncr_id()));
      n->root_cause = d.cause();
    } else if (e.type == "takt.quality.v1.CapaActionAdded") {
      v1::CapaActionAdded d;
      TAKT_RETURN_IF_ERROR(ParseInto(e, d));
      TAKT_ASSIGN_OR_RETURN(Ncr * n, ncr(d.ncr_id()));
      n->actions[d.action_id()] = Ncr::Action{d, false};
      n->effective = false;
    } else if (e.type == "takt.quality.v1.CapaActionCompleted") {
      v1::CapaActionCompleted d;
      TAKT_RETURN_IF_ERROR(ParseInto(e, d));
      TAKT_ASSIGN_OR_RETURN(Ncr * n, ncr(d.ncr_id()));
      n->actions[d.action_id()].done = true;
      n->effective = false;
    } else if (e.type == "takt.quality.v1.EffectivenessChecked") {
      v1::EffectivenessChecked d;
      TAKT_RETURN_IF_ERROR(ParseInto(e, d));
      TAKT_ASSIGN_OR_RETURN(Ncr * n, ncr(d.ncr_id()));
      n->effective = d.effective();
    } else if (e.type == "takt.quality.v1.NcrClosed") {
      v1::NcrClosed d;
      TAKT_RETURN_IF_ERROR(ParseInto(e, d));
      TAKT_ASSIGN_OR_RETURN(Ncr * n, ncr(d.ncr_id()));
      n->closed = true;
      n->closed_at = absl::FromUnixMicros(d.closed_us());
    } else if (e.type == "takt.quality.v1.NcrReopened") {
      v1::NcrReopened d;
      TAKT_RETURN_IF_ERROR(ParseInto(e, d));
      TAKT_ASSIGN_OR_RETURN(Ncr * n, ncr(d.ncr_id()));
      n->closed = false;
      n->effective = false;
      n->opened = absl::FromUnixMicros(d.reopened_us());
      ++n->reopened;
    } else {
      return absl::DataLossError(absl::StrCat("unknown quality event type ", e.type));
    }
  }
  return absl::OkStatus();
}

std::optional<CharacteristicAt> QualityBook::Find(const std::string& characteristic,
                                                  absl::CivilDay day) const {
  auto owner = owner_.find(characteristic);
  if (owner == owner_.end()) return std::nullopt;
  const auto& versions = plans_.at(owner->second);
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    auto from = model::ParseDay(it->effective_from());
    if (from.ok() && *from > day) continue;
    for (const auto& c : it->characteristics()) {
      if (c.id() == characteristic) return CharacteristicAt{&*it, &c};
    }
    return std::nullopt;  // the version in force no longer has it
  }
  return std::nullopt;
}

std::optional<CharacteristicAt> QualityBook::Latest(const std::string& characteristic) const {
  auto owner = owner_.find(characteristic);
  if (owner == owner_.end()) return std::nullopt;
  const auto& versions = plans_.at(owner->second);
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    for (const auto& c : it->characteristics()) {
      if (c.id() == characteristic) return CharacteristicAt{&*it, &c};
    }
  }
  return std::nullopt;
}

const std::vector<v1::LimitsApproved>& QualityBook::Limits(const std::string& characteristic) const {
  static const std::vector<v1::LimitsApproved> kNone;
  auto it = limits_.find(characteristic);
  return it == limits_.end() ? kNone : it->second;
}

const Ncr* QualityBook::FindNcr(const std::string& id) const {
  auto it = ncrs_.find(id);
  return it == ncrs_.end() ? nullptr : &it->second;
}

absl::StatusOr<std::vector<es::Event>> DecidePlan(const QualityBook& book, const v1::Plan& plan,
                                                  const UnitExists& unit_exists) {
  TAKT_RETURN_IF_ERROR(ValidateId("plan_id", plan.plan_id()));
  TAKT_RETURN_IF_ERROR(ValidateId("product", plan.product()));
  TAKT_RETURN_IF_ERROR(ValidateId("work_unit", plan.work_unit()));
  if (!unit_exists(plan.work_unit())) {
    return absl::NotFoundError(
        absl::StrCat("plan '", plan.plan_id(), "': work unit '", plan.work_unit(),
                     "' is not defined in this facility"));
  }
  auto day = model::ParseDay(plan.effective_from());
  if (!day.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("plan '", plan.plan_id(), "': effective_from: ",
                                                   day.status().message()));
  }
  if (plan.characteristics_size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("plan '", plan.plan_id(), "' has no characteristics"));
  }
  std::set<std::string> ids;
  for (const auto& c : plan.characteristics()) {
    absl::Status s = CheckCharacteristic(book, c, {});
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat("plan '", plan.plan_id(), "': ", s.message()));
    if (!ids.insert(c.id()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "plan '", plan.plan_id(), "': characteristic '", c.id(), "' is listed twice"));
    }
    if (auto other = book.Latest(c.id()); other && other->plan->plan_id() != plan.plan_id()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "characteristic '", c.id(), "' belongs to plan '", other->plan->plan_id(),
          "' (an id names one characteristic in a facility)"));
    } else if (other) {
      // Charts, limits and capability moments are kept in its chart type,
      // subgroup size, nominal, resolution and unit: a new version may
      // change its specification limits and rules, not those.
      const v1::Characteristic& was = *other->characteristic;
      if (was.chart() != c.chart() || was.subgroup_size() != c.subgroup_size() ||
          was.nominal() != c.nominal() || was.resolution() != c.resolution() ||
          was.unit() != c.unit()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "plan '", plan.plan_id(), "': characteristic '", c.id(),
            "' would change its chart, subgroup size, nominal, resolution or unit; its history "
            "is charted and pooled in those: define a new characteristic id instead"));
      }
    }
  }
  v1::PlanVersionApplied applied;
  applied.set_plan_id(plan.plan_id());
  applied.set_product(plan.product());
  applied.set_work_unit(plan.work_unit());
  applied.set_effective_from(plan.effective_from());
  *applied.mutable_characteristics() = plan.characteristics();
  auto it = book.plans().find(plan.plan_id());
  if (it != book.plans().end()) {
    const v1::PlanVersionApplied& last = it->second.back();
    applied.set_version(last.version());
    if (google::protobuf::util::MessageDifferencer::Equals(applied, last)) return std::vector<es::Event>{};
    auto last_day = model::ParseDay(last.effective_from());
    if (last_day.ok() && *day < *last_day) {
      return absl::FailedPreconditionError(absl::StrCat(
          "plan '", plan.plan_id(), "': a new version must take effect on or after version ",
          last.version(), "'s ", last.effective_from(), ", not ", plan.effective_from()));
    }
    applied.set_version(last.version() + 1);
  } else {
    applied.set_version(1);
  }
  return std::vector<es::Event>{es::EventOf(applied)};
}

absl::StatusOr<std::vector<es::Event>> DecideDefectCode(const QualityBook& book,
                                                        const v1::DefectCodeDefined& code) {
  TAKT_RETURN_IF_ERROR(ValidateId("defect code", code.code()));
  TAKT_RETURN_IF_ERROR(Text("description", code.description(), false));
  if (!code.severity().empty() && code.severity() != "minor" && code.severity() != "major" &&
      code.severity() != "critical") {
    return absl::InvalidArgumentError(absl::StrCat("defect code '", code.code(), "': severity '",
                                                   code.severity(), "' is not minor, major or critical"));
  }
  if (const v1::DefectCodeDefined* known = book.FindDefectCode(code.code());
      known != nullptr && google::protobuf::util::MessageDifferencer::Equals(*known, code)) {
    return std::vector<es::Event>{};
  }
  return std::vector<es::Event>{es::EventOf(code)};
}

absl::StatusOr<std::vector<es::Event>> DecideLimits(const QualityBook& book,
                                                    v1::LimitsApproved limits) {
  if (!book.Latest(limits.characteristic())) {
    return absl::NotFoundError(
        absl::StrCat("characteristic '", limits.characteristic(), "' is in no plan"));
  }
  TAKT_RETURN_IF_ERROR(Text("reason", limits.reason(), true));
  limits.set_revision(static_cast<uint32_t>(book.Limits(limits.characteristic()).size()) + 1);
  return std::vector<es::Event>{es::EventOf(limits)};
}

std::string NcrIdOf(const v1::NcrCommand& c) {
  switch (c.kind_case()) {
    case v1::NcrCommand::kRaise: return c.raise().ncr_id();
    case v1::NcrCommand::kDisposition: return c.disposition().ncr_id();
    case v1::NcrCommand::kContain: return c.contain().ncr_id();
    case v1::NcrCommand::kRootCause: return c.root_cause().ncr_id();
    case v1::NcrCommand::kAddAction: return c.add_action().ncr_id();
    case v1::NcrCommand::kCompleteAction: return c.complete_action().ncr_id();
    case v1::NcrCommand::kCheck: return c.check().ncr_id();
    case v1::NcrCommand::kClose: return c.close().ncr_id();
    case v1::NcrCommand::kReopen: return c.reopen().ncr_id();
    default: return "";
  }
}

absl::StatusOr<std::vector<es::Event>> DecideNcr(const QualityBook& book,
                                                 const v1::NcrCommand& command, absl::Time now,
                                                 const std::string& new_id) {
  auto one = [](const google::protobuf::Message& m) { return std::vector<es::Event>{es::EventOf(m)}; };
  if (command.has_raise()) {
    v1::NcrRaised r = command.raise();
    if (r.ncr_id().empty()) r.set_ncr_id(new_id);
    TAKT_RETURN_IF_ERROR(ValidateId("ncr_id", r.ncr_id()));
    if (book.FindNcr(r.ncr_id()) != nullptr) {
      return absl::AlreadyExistsError(absl::StrCat("NCR '", r.ncr_id(), "' exists"));
    }
    if (r.origin().empty()) r.set_origin("manual");
    if (r.origin() != "manual" && r.origin() != "rule_violation" && r.origin() != "failed_inspection") {
      return absl::InvalidArgumentError(absl::StrCat("origin '", r.origin(),
                                                     "' is not manual, rule_violation or failed_inspection"));
    }
    const bool stream_id = r.ncr_id().size() > 5 && r.ncr_id().rfind("ncr-s", 0) == 0 &&
                           r.ncr_id().find_first_not_of("0123456789", 5) == std::string::npos;
    if (r.origin() == "manual" && (r.source_sequence() != 0 || stream_id)) {
      return absl::InvalidArgumentError(
          "source_sequence and ids 'ncr-s<number>' belong to NCRs raised from the measurement stream");
    }
    for (auto [field, id] : {std::pair{"characteristic", &r.characteristic()},
                             std::pair{"work_unit", &r.work_unit()}, std::pair{"lot", &r.lot()},
                             std::pair{"order_id", &r.order_id()},
                             std::pair{"defect_code", &r.defect_code()}}) {
      if (!id->empty()) TAKT_RETURN_IF_ERROR(ValidateId(field, *id));
    }
    if (!r.defect_code().empty() && !book.KnowsDefectCode(r.defect_code())) {
      return absl::NotFoundError(absl::StrCat("defect code '", r.defect_code(), "' is not in the catalogue"));
    }
    if (r.quantity() < 0) return absl::InvalidArgumentError("quantity must not be negative");
    TAKT_RETURN_IF_ERROR(Text("description", r.description(), true));
    r.set_raised_us(absl::ToUnixMicros(now));
    return one(r);
  }
  const std::string id = NcrIdOf(command);
  if (command.kind_case() == v1::NcrCommand::KIND_NOT_SET) {
    return absl::InvalidArgumentError("the NCR command has no kind (raise, disposition, contain, "
                                      "root_cause, add_action, complete_action, check, close, reopen)");
  }
  TAKT_RETURN_IF_ERROR(ValidateId("ncr_id", id));
  const Ncr* n = book.FindNcr(id);
  if (n == nullptr) return absl::NotFoundError(absl::StrCat("NCR '", id, "' does not exist"));
  auto refuse = [&](std::string why) {
    return absl::FailedPreconditionError(absl::StrCat("NCR '", id, "': ", why));
  };
  if (command.has_reopen()) {
    if (!n->closed) return refuse("it is open; only a closed NCR can be reopened");
    TAKT_RETURN_IF_ERROR(Text("reason", command.reopen().reason(), true));
    v1::NcrReopened e = command.reopen();
    e.set_reopened_us(absl::ToUnixMicros(now));
    return one(e);
  }
  if (n->closed) return refuse("it is closed; reopen it first");
  switch (command.kind_case()) {
    case v1::NcrCommand::kDisposition: {
      const auto& d = command.disposition();
      if (d.disposition() == v1::DISPOSITION_UNSPECIFIED || !v1::Disposition_IsValid(d.disposition())) {
        return absl::InvalidArgumentError(
            "disposition must be SCRAP, REWORK, USE_AS_IS or RETURN_TO_SUPPLIER");
      }
      TAKT_RETURN_IF_ERROR(Text("reason", d.reason(), true));
      return one(d);
    }
    case v1::NcrCommand::kContain:
      TAKT_RETURN_IF_ERROR(Text("note", command.contain().note(), true));
      return one(command.contain());
    case v1::NcrCommand::kRootCause:
      TAKT_RETURN_IF_ERROR(Text("cause", command.root_cause().cause(), true));
      return one(command.root_cause());
    case v1::NcrCommand::kAddAction: {
      const auto& a = command.add_action();
      if (n->root_cause.empty()) return refuse("record the root cause before adding actions");
      TAKT_RETURN_IF_ERROR(ValidateId("action_id", a.action_id()));
      if (n->actions.contains(a.action_id())) {
        return absl::AlreadyExistsError(absl::StrCat("NCR '", id, "': action '", a.action_id(), "' exists"));
      }
      if (a.kind() == v1::ACTION_KIND_UNSPECIFIED || !v1::ActionKind_IsValid(a.kind())) {
        return absl::InvalidArgumentError("action kind must be CORRECTIVE or PREVENTIVE");
      }
      TAKT_RETURN_IF_ERROR(ValidateId("owner", a.owner()));
      auto due = model::ParseDay(a.due());
      if (!due.ok()) return absl::InvalidArgumentError(absl::StrCat("due: ", due.status().message()));
      const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
      if (*due < absl::ToCivilDay(n->opened, absl::UTCTimeZone()) || *due < today - 1) {
        return absl::InvalidArgumentError(absl::StrCat("due ", a.due(), " is in the past"));
      }
      TAKT_RETURN_IF_ERROR(Text("description", a.description(), true));
      return one(a);
    }
    case v1::NcrCommand::kCompleteAction: {
      v1::CapaActionCompleted c = command.complete_action();
      auto it = n->actions.find(c.action_id());
      if (it == n->actions.end()) {
        return absl::NotFoundError(absl::StrCat("NCR '", id, "' has no action '", c.action_id(), "'"));
      }
      if (it->second.done) return refuse(absl::StrCat("action '", c.action_id(), "' is already done"));
      TAKT_RETURN_IF_ERROR(Text("note", c.note(), false));
      c.set_due(it->second.added.due());
      auto due = model::ParseDay(c.due());
      c.set_on_time(due.ok() && absl::ToCivilDay(now, absl::UTCTimeZone()) <= *due);
      return one(c);
    }
    case v1::NcrCommand::kCheck: {
      if (n->actions.empty()) return refuse("there are no actions to check");
      for (const auto& [aid, a] : n->actions) {
        if (!a.done) return refuse(absl::StrCat("action '", aid, "' is not done yet"));
      }
      TAKT_RETURN_IF_ERROR(Text("note", command.check().note(), true));
      return one(command.check());
    }
    case v1::NcrCommand::kClose: {
      TAKT_RETURN_IF_ERROR(Text("reason", command.close().reason(), true));
      if (n->disposition == v1::DISPOSITION_UNSPECIFIED) return refuse("it has no disposition");
      if (n->root_cause.empty()) return refuse("it has no root cause");
      bool corrective = false;
      for (const auto& [aid, a] : n->actions) {
        if (!a.done) return refuse(absl::StrCat("action '", aid, "' is not done"));
        corrective |= a.added.kind() == v1::CORRECTIVE;
      }
      if (!corrective) return refuse("it has no corrective action");
      if (!n->effective) {
        return refuse("no effectiveness check found the actions effective (after the last of them)");
      }
      v1::NcrClosed e = command.close();
      e.set_closed_us(absl::ToUnixMicros(now));
      e.set_open_us(std::max<int64_t>(0, absl::ToInt64Microseconds(now - n->opened)));
      return one(e);
    }
    default:
      return absl::InvalidArgumentError("unknown NCR command");
  }
}

v1::NcrView ViewOf(const Ncr& n) {
  v1::NcrView v;
  v.set_ncr_id(n.raised.ncr_id());
  v.set_status(n.closed ? "closed" : "open");
  v.set_origin(n.raised.origin());
  v.set_characteristic(n.raised.characteristic());
  v.set_lot(n.raised.lot());
  v.set_quantity(n.raised.quantity());
  v.set_defect_code(n.raised.defect_code());
  v.set_description(n.raised.description());
  v.set_disposition(n.disposition);
  v.set_root_cause(n.root_cause);
  *v.mutable_raised() = ToProto(absl::FromUnixMicros(n.raised.raised_us()));
  if (n.closed) *v.mutable_closed() = ToProto(n.closed_at);
  for (const auto& [aid, a] : n.actions) {
    v.set_actions(v.actions() + 1);
    if (!a.done) v.set_actions_open(v.actions_open() + 1);
    *v.add_action_list() = a.added;
  }
  v.set_effective(n.effective);
  v.set_reopened(n.reopened);
  return v;
}

}  // namespace takt::quality
