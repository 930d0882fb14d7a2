#include "services/budgets/initiatives.h"

#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/auth/principal.h"
#include "libs/common/status_macros.h"
#include "libs/model/enterprise_model.h"
#include "services/budgets/budget_book.h"
#include "services/budgets/money.h"

namespace takt::budgets {
namespace {

constexpr size_t kMaxText = 200;
// Planned and confirmed savings: at most 10^15 minor units a month.
constexpr int64_t kMaxSavings = 1'000'000'000'000'000;

absl::Status Invalid(std::string what) { return absl::InvalidArgumentError(std::move(what)); }

absl::StatusOr<absl::CivilDay> Day(const std::string& field, const std::string& text) {
  auto d = model::ParseDay(text);
  if (!d.ok()) return Invalid(absl::StrCat(field, ": ", d.status().message()));
  return *d;
}

absl::StatusOr<absl::CivilDay> Recorded(const std::string& text) {
  auto d = model::ParseDay(text);
  if (!d.ok()) return absl::DataLossError(absl::StrCat("an initiative's day: ", d.status().message()));
  return *d;
}

absl::Status CheckText(const std::string& field, const std::string& text, bool required) {
  if (required && text.empty()) return Invalid(absl::StrCat(field, " is required"));
  if (text.size() > kMaxText) return Invalid(absl::StrCat(field, " is ", text.size(), " bytes; at most ", kMaxText));
  return absl::OkStatus();
}

std::vector<es::Event> One(const google::protobuf::Message& m) { return {es::EventOf(m)}; }
std::vector<es::Event> None() { return {}; }

const char* StageName(v1::InitiativeStage s) {
  switch (s) {
    case v1::PROPOSED: return "proposed";
    case v1::APPROVED: return "approved";
    case v1::IN_PROGRESS: return "in progress";
    case v1::REALISED: return "realised";
    case v1::CANCELLED: return "cancelled";
    default: return "unknown";
  }
}

absl::Status WrongStage(const Initiative& i, const char* verb, const char* needs) {
  return absl::FailedPreconditionError(absl::StrCat("initiative '", i.proposal.initiative(), "' is ",
                                                    StageName(i.stage), ": only ", needs, " can be ", verb));
}

absl::StatusOr<const Initiative*> Known(const BudgetBook& book, const std::string& id) {
  TAKT_RETURN_IF_ERROR(ValidateId("initiative", id));
  const Initiative* i = book.initiatives().Find(id);
  if (i == nullptr) return absl::NotFoundError(absl::StrCat("initiative '", id, "' was not proposed"));
  return i;
}

// The proposal a command records, checked.
absl::StatusOr<v1::InitiativeProposed> Proposal(const BudgetBook& book, const v1::ProposeInitiative& p,
                                                const model::EnterpriseModel& model) {
  TAKT_RETURN_IF_ERROR(ValidateId("initiative", p.initiative()));
  TAKT_RETURN_IF_ERROR(CheckText("title", p.title(), true));
  TAKT_RETURN_IF_ERROR(ValidateId("owner", p.owner()));
  if (p.method() == v1::IMPROVEMENT_METHOD_UNSPECIFIED || !v1::ImprovementMethod_IsValid(p.method())) {
    return Invalid("method must be KAIZEN, LEAN, SIX_SIGMA or OTHER_METHOD");
  }
  if (!book.configured()) {
    return absl::FailedPreconditionError("the facility has no ledger yet: configure_ledger first (its currency)");
  }
  const v1::AccountDefined* account = nullptr;
  if (!p.account().empty()) {
    account = book.FindAccount(p.account());
    if (account == nullptr) {
      return absl::NotFoundError(absl::StrCat("account '", p.account().substr(0, kMaxIdLength), "' is not defined"));
    }
  }
  switch (p.target_kpi()) {
    case v1::SCRAP_RATIO:
      if (account != nullptr) return Invalid("target SCRAP_RATIO takes no account (it is valued at standard cost)");
      break;
    case v1::MATERIAL_USAGE:
    case v1::LABOUR_EFFICIENCY: {
      const v1::AccountKind need = p.target_kpi() == v1::MATERIAL_USAGE ? v1::DIRECT_MATERIAL : v1::DIRECT_LABOUR;
      if (account == nullptr || account->kind() != need) {
        return Invalid(absl::StrCat("target ", v1::TargetKpi_Name(p.target_kpi()), " needs a ",
                                    v1::AccountKind_Name(need), " account"));
      }
      break;
    }
    case v1::COST_PER_GOOD_UNIT:
      if (account == nullptr) return Invalid("target COST_PER_GOOD_UNIT needs an account");
      break;
    default:
      return Invalid("target_kpi must be SCRAP_RATIO, MATERIAL_USAGE, LABOUR_EFFICIENCY or COST_PER_GOOD_UNIT");
  }
  if (!p.product().empty()) {
    TAKT_RETURN_IF_ERROR(ValidateId("product", p.product()));
    if (!model.PlannedRunTime(p.product()).has_value()) {
      return absl::NotFoundError(absl::StrCat("product '", p.product(), "' is not in the enterprise model"));
    }
  }
  TAKT_ASSIGN_OR_RETURN(absl::CivilDay from, Day("baseline_from", p.baseline_from()));
  TAKT_ASSIGN_OR_RETURN(absl::CivilDay to, Day("baseline_to", p.baseline_to()));
  TAKT_ASSIGN_OR_RETURN(absl::CivilDay start, Day("planned_start", p.planned_start()));
  if (to < from) return Invalid("baseline_to is before baseline_from");
  if (to - from >= kMaxBaselineDays) {
    return Invalid(absl::StrCat("the baseline window is ", to - from + 1, " days; at most ", kMaxBaselineDays));
  }
  if (start <= to) return Invalid("planned_start must be after baseline_to (the baseline is what came before)");
  auto planned = ParseAmount(p.planned_savings_per_month(), book.currency());
  if (!planned.ok()) return Invalid(absl::StrCat("planned_savings_per_month: ", planned.status().message()));
  if (*planned < 0 || *planned > kMaxSavings) {
    return Invalid(absl::StrCat("planned_savings_per_month ", p.planned_savings_per_month(),
                                ": 0 to 10^15 minor units"));
  }
  v1::InitiativeProposed out;
  out.set_initiative(p.initiative());
  out.set_title(p.title());
  out.set_method(p.method());
  out.set_owner(p.owner());
  out.set_target_kpi(p.target_kpi());
  out.set_account(p.account());
  out.set_product(p.product());
  out.set_baseline_from(absl::FormatCivilTime(from));
  out.set_baseline_to(absl::FormatCivilTime(to));
  out.set_planned_start(absl::FormatCivilTime(start));
  out.set_planned_savings_per_month(*planned);
  return out;
}

// An approval's approver, checked against who calls: an authenticated
// person approves as themself, and never their own initiative.
absl::Status CheckApprover(const Initiative& i, const std::string& approved_by, const es::CommandOrigin& origin,
                           const char* what) {
  TAKT_RETURN_IF_ERROR(ValidateId("approved_by", approved_by));
  auto caller = auth::ParseActor(origin.actor);
  if (caller.ok() && caller->kind == auth::PrincipalKind::kPerson) {
    if (caller->name == i.proposal.owner()) {
      return absl::PermissionDeniedError(absl::StrCat("initiative '", i.proposal.initiative(), "': its owner '",
                                                      caller->name, "' cannot ", what, " it"));
    }
    if (caller->name != approved_by) {
      return absl::PermissionDeniedError(absl::StrCat("approved_by '", approved_by, "' is not the caller (",
                                                      origin.actor, "): a person approves as themself"));
    }
  }
  if (approved_by == i.proposal.owner()) {
    return absl::PermissionDeniedError(absl::StrCat("initiative '", i.proposal.initiative(), "': its owner '",
                                                    approved_by, "' cannot ", what, " it"));
  }
  return absl::OkStatus();
}

}  // namespace

// ---- The fold -------------------------------------------------------------------

absl::StatusOr<bool> Initiatives::Apply(const std::string& type, const es::Event& e) {
  auto parse = [&](google::protobuf::Message& m) -> absl::Status {
    if (!m.ParseFromString(e.payload)) return absl::DataLossError(absl::StrCat(e.type, " does not parse"));
    return absl::OkStatus();
  };
  auto find = [&](const std::string& id) -> absl::StatusOr<Initiative*> {
    auto it = initiatives_.find(id);
    if (it == initiatives_.end()) return absl::DataLossError(absl::StrCat(e.type, " of unknown initiative ", id));
    return &it->second;
  };
  if (type == "InitiativeProposed") {
    Initiative i;
    TAKT_RETURN_IF_ERROR(parse(i.proposal));
    TAKT_ASSIGN_OR_RETURN(i.baseline_from, Recorded(i.proposal.baseline_from()));
    TAKT_ASSIGN_OR_RETURN(i.baseline_to, Recorded(i.proposal.baseline_to()));
    TAKT_ASSIGN_OR_RETURN(i.planned_start, Recorded(i.proposal.planned_start()));
    initiatives_[i.proposal.initiative()] = std::move(i);
  } else if (type == "InitiativeApproved") {
    v1::InitiativeApproved r;
    TAKT_RETURN_IF_ERROR(parse(r));
    TAKT_ASSIGN_OR_RETURN(Initiative * i, find(r.initiative()));
    i->stage = v1::APPROVED;
    i->approved_by = r.approved_by();
  } else if (type == "InitiativeStarted") {
    v1::InitiativeStarted r;
    TAKT_RETURN_IF_ERROR(parse(r));
    TAKT_ASSIGN_OR_RETURN(Initiative * i, find(r.initiative()));
    TAKT_ASSIGN_OR_RETURN(i->started, Recorded(r.day()));
    i->stage = v1::IN_PROGRESS;
  } else if (type == "InitiativeRealised") {
    v1::InitiativeRealised r;
    TAKT_RETURN_IF_ERROR(parse(r));
    TAKT_ASSIGN_OR_RETURN(Initiative * i, find(r.initiative()));
    TAKT_ASSIGN_OR_RETURN(i->realised, Recorded(r.day()));
    i->stage = v1::REALISED;
  } else if (type == "InitiativeCancelled") {
    v1::InitiativeCancelled r;
    TAKT_RETURN_IF_ERROR(parse(r));
    TAKT_ASSIGN_OR_RETURN(Initiative * i, find(r.initiative()));
    TAKT_ASSIGN_OR_RETURN(i->cancelled, Recorded(r.day()));
    i->stage = v1::CANCELLED;
  } else if (type == "SavingsConfirmed") {
    v1::SavingsConfirmed r;
    TAKT_RETURN_IF_ERROR(parse(r));
    TAKT_ASSIGN_OR_RETURN(Initiative * i, find(r.initiative()));
    TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, ParseMonth(r.month()));
    i->confirmed[m] = std::move(r);
  } else {
    return false;
  }
  return true;
}

const Initiative* Initiatives::Find(const std::string& id) const {
  auto it = initiatives_.find(id);
  return it == initiatives_.end() ? nullptr : &it->second;
}

// ---- Decisions -------------------------------------------------------------------

std::optional<absl::StatusOr<std::vector<es::Event>>> DecideInitiative(const BudgetBook& book,
                                                                         const v1::BudgetCommand& c,
                                                                         const model::EnterpriseModel& model,
                                                                         const es::CommandOrigin& origin) {
  auto decide = [&]() -> absl::StatusOr<std::vector<es::Event>> {
    switch (c.command_case()) {
      case v1::BudgetCommand::kProposeInitiative: {
        TAKT_ASSIGN_OR_RETURN(v1::InitiativeProposed p, Proposal(book, c.propose_initiative(), model));
        if (const Initiative* now = book.initiatives().Find(p.initiative())) {
          if (now->proposal.SerializeAsString() == p.SerializeAsString()) return None();
          return absl::AlreadyExistsError(absl::StrCat(
              "initiative '", p.initiative(), "' was proposed with other content; a proposal is what its savings are "
              "measured against and cannot change: cancel it and propose a new one"));
        }
        return One(p);
      }
      case v1::BudgetCommand::kApproveInitiative: {
        const auto& a = c.approve_initiative();
        TAKT_ASSIGN_OR_RETURN(const Initiative* i, Known(book, a.initiative()));
        TAKT_RETURN_IF_ERROR(CheckText("reason", a.reason(), true));
        TAKT_RETURN_IF_ERROR(CheckApprover(*i, a.approved_by(), origin, "approve"));
        if (i->stage != v1::PROPOSED) {
          if (i->stage != v1::CANCELLED && i->approved_by == a.approved_by()) return None();
          return WrongStage(*i, "approved", "a proposed initiative");
        }
        return One(a);
      }
      case v1::BudgetCommand::kStartInitiative: {
        const auto& s = c.start_initiative();
        TAKT_ASSIGN_OR_RETURN(const Initiative* i, Known(book, s.initiative()));
        TAKT_ASSIGN_OR_RETURN(absl::CivilDay day, Day("day", s.day()));
        if (i->started) {
          if (*i->started == day) return None();
          return absl::FailedPreconditionError(absl::StrCat("initiative '", s.initiative(), "' started on ",
                                                            absl::FormatCivilTime(*i->started)));
        }
        if (i->stage != v1::APPROVED) return WrongStage(*i, "started", "an approved initiative");
        if (day <= i->baseline_to) {
          return Invalid(absl::StrCat("day ", s.day(), " is inside the baseline window (to ",
                                      i->proposal.baseline_to(), ")"));
        }
        v1::InitiativeStarted out;
        out.set_initiative(s.initiative());
        out.set_day(absl::FormatCivilTime(day));
        return One(out);
      }
      case v1::BudgetCommand::kRealiseInitiative: {
        const auto& r = c.realise_initiative();
        TAKT_ASSIGN_OR_RETURN(const Initiative* i, Known(book, r.initiative()));
        TAKT_ASSIGN_OR_RETURN(absl::CivilDay day, Day("day", r.day()));
        TAKT_RETURN_IF_ERROR(CheckText("reason", r.reason(), true));
        if (i->realised && *i->realised == day) return None();
        if (i->stage != v1::IN_PROGRESS) return WrongStage(*i, "realised", "an initiative in progress");
        if (day < *i->started) return Invalid(absl::StrCat("day ", r.day(), " is before the start"));
        v1::InitiativeRealised out = r;
        out.set_day(absl::FormatCivilTime(day));
        return One(out);
      }
      case v1::BudgetCommand::kCancelInitiative: {
        const auto& r = c.cancel_initiative();
        TAKT_ASSIGN_OR_RETURN(const Initiative* i, Known(book, r.initiative()));
        TAKT_ASSIGN_OR_RETURN(absl::CivilDay day, Day("day", r.day()));
        TAKT_RETURN_IF_ERROR(CheckText("reason", r.reason(), true));
        if (i->cancelled && *i->cancelled == day) return None();
        if (i->stage == v1::REALISED || i->stage == v1::CANCELLED) {
          return WrongStage(*i, "cancelled", "a proposed, approved or running initiative");
        }
        if (i->started && day <= *i->started) {
          return Invalid(absl::StrCat("day ", r.day(), " is not after the start (",
                                      absl::FormatCivilTime(*i->started), ")"));
        }
        if (!i->confirmed.empty()) {
          const absl::CivilMonth last = i->confirmed.rbegin()->first;
          if (day <= absl::CivilDay(last + 1) - 1) {
            return absl::FailedPreconditionError(absl::StrCat(
                "initiative '", r.initiative(), "' has savings confirmed for ", MonthText(last),
                ": it can be cancelled from the day after that month"));
          }
        }
        v1::InitiativeCancelled out = r;
        out.set_day(absl::FormatCivilTime(day));
        return One(out);
      }
      case v1::BudgetCommand::kConfirmSavings: {
        const auto& s = c.confirm_savings();
        TAKT_ASSIGN_OR_RETURN(const Initiative* i, Known(book, s.initiative()));
        auto m = ParseMonth(s.month());
        if (!m.ok()) return Invalid(absl::StrCat("month: ", m.status().message()));
        TAKT_RETURN_IF_ERROR(CheckText("reason", s.reason(), true));
        auto amount = ParseAmount(s.amount(), book.currency());
        if (!amount.ok()) return Invalid(absl::StrCat("amount: ", amount.status().message()));
        if (*amount < -kMaxSavings || *amount > kMaxSavings) {
          return Invalid(absl::StrCat("amount ", s.amount(), ": at most 10^15 minor units"));
        }
        if (!i->started) return WrongStage(*i, "given confirmed savings", "a started initiative");
        if (*m < absl::CivilMonth(*i->started) || (i->cancelled && *m > absl::CivilMonth(*i->cancelled - 1))) {
          return Invalid(absl::StrCat("month ", s.month(), " is outside the initiative's running time"));
        }
        if (*m >= absl::CivilMonth(absl::ToCivilDay(origin.now, absl::UTCTimeZone()))) {
          return Invalid(absl::StrCat("month ", s.month(), " has not ended: savings are confirmed after the month"));
        }
        TAKT_RETURN_IF_ERROR(CheckApprover(*i, s.approved_by(), origin, "confirm savings of"));
        int64_t previous = 0;
        if (auto it = i->confirmed.find(*m); it != i->confirmed.end()) {
          if (it->second.amount() == *amount && it->second.approved_by() == s.approved_by()) return None();
          previous = it->second.amount();
        }
        v1::SavingsConfirmed out;
        out.set_initiative(s.initiative());
        out.set_month(MonthText(*m));
        out.set_amount(*amount);
        out.set_previous_amount(previous);
        out.set_approved_by(s.approved_by());
        out.set_reason(s.reason());
        return One(out);
      }
      default:
        return absl::InternalError("not an initiative command");
    }
  };
  switch (c.command_case()) {
    case v1::BudgetCommand::kProposeInitiative:
    case v1::BudgetCommand::kApproveInitiative:
    case v1::BudgetCommand::kStartInitiative:
    case v1::BudgetCommand::kRealiseInitiative:
    case v1::BudgetCommand::kCancelInitiative:
    case v1::BudgetCommand::kConfirmSavings:
      return decide();
    default:
      return std::nullopt;
  }
}

}  // namespace takt::budgets
