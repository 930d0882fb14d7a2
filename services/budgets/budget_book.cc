#include "services/budgets/budget_book.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"

namespace takt::budgets {
namespace {

constexpr char kPrefix[] = "takt.budgets.v1.";
constexpr size_t kMaxNameLength = 200;
constexpr int kMaxLinesPerCard = 200;

template <typename M>
absl::Status Parse(const es::Event& e, M& out) {
  if (!out.ParseFromString(e.payload)) return absl::DataLossError(absl::StrCat(e.type, " does not parse"));
  return absl::OkStatus();
}

absl::Status Invalid(std::string what) { return absl::InvalidArgumentError(std::move(what)); }

absl::StatusOr<absl::CivilMonth> Month(const std::string& field, const std::string& text) {
  auto m = ParseMonth(text);
  if (!m.ok()) return Invalid(absl::StrCat(field, ": ", m.status().message()));
  return *m;
}

absl::Status CheckName(const std::string& field, const std::string& text) {
  if (text.size() > kMaxNameLength) {
    return Invalid(absl::StrCat(field, " is ", text.size(), " bytes; at most ", kMaxNameLength));
  }
  return absl::OkStatus();
}

bool NeedsPrice(v1::AccountKind k) {
  return k == v1::DIRECT_MATERIAL || k == v1::DIRECT_LABOUR || k == v1::VARIABLE_OVERHEAD ||
         k == v1::FIXED_OVERHEAD;
}

std::vector<es::Event> One(const google::protobuf::Message& m) { return {es::EventOf(m)}; }

}  // namespace

absl::StatusOr<absl::CivilMonth> ParseMonth(const std::string& yyyy_mm) {
  absl::CivilMonth m;
  if (yyyy_mm.size() != 7 || !absl::ParseCivilTime(yyyy_mm, &m) || m.year() < 1900 || m.year() > 2999) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", yyyy_mm.substr(0, 20), "' is not a month YYYY-MM (years 1900 to 2999)"));
  }
  return m;
}

std::string MonthText(absl::CivilMonth m) { return absl::FormatCivilTime(m); }

// ---- The fold ----------------------------------------------------------------

absl::Status BudgetBook::Apply(const es::Event& e) {
  if (e.type.rfind(kPrefix, 0) != 0) return absl::OkStatus();
  const std::string type = e.type.substr(sizeof(kPrefix) - 1);
  if (type == "LedgerConfigured") {
    v1::LedgerConfigured r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    currency_ = r.currency();
    reporting_currency_ = r.reporting_currency();
  } else if (type == "AccountDefined") {
    v1::AccountDefined r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    Decimal price;
    if (!r.standard_price().empty()) {
      auto p = ParseDecimal(r.standard_price());
      if (!p.ok()) return absl::DataLossError(absl::StrCat("account ", r.account(), ": ", p.status().message()));
      price = *p;
    }
    prices_[r.account()] = price;
    accounts_[r.account()] = std::move(r);
  } else if (type == "CostCentreDefined") {
    v1::CostCentreDefined r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    cost_centres_[r.cost_centre()] = std::move(r);
  } else if (type == "BudgetSet") {
    v1::BudgetSet r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, ParseMonth(r.month()));
    budgets_[{r.version(), m, r.account(), r.cost_centre()}] = r.amount();
  } else if (type == "PlannedOutputSet") {
    v1::PlannedOutputSet r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, ParseMonth(r.month()));
    planned_[{r.version(), m}] = r.good_units();
  } else if (type == "BudgetApproved") {
    v1::BudgetApproved r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, ParseMonth(r.from_month()));
    approvals_[m] = r.version();
  } else if (type == "StandardCostSet") {
    v1::StandardCostSet r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, ParseMonth(r.from_month()));
    std::vector<StandardQuantity> card;
    for (const auto& line : r.lines()) {
      auto q = ParseDecimal(line.quantity_per_unit());
      if (!q.ok()) return absl::DataLossError(absl::StrCat("standard of ", r.product(), ": ", q.status().message()));
      card.push_back({line.account(), *q});
    }
    standards_[r.product()][m] = std::move(card);
  } else if (type == "ExchangeRateSet") {
    v1::ExchangeRateSet r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, ParseMonth(r.month()));
    auto rate = ParseDecimal(r.rate());
    if (!rate.ok()) return absl::DataLossError(absl::StrCat("rate of ", r.month(), ": ", rate.status().message()));
    rates_[m] = *rate;
  } else if (type == "ActualExchangeRateSet") {
    v1::ActualExchangeRateSet r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, ParseMonth(r.month()));
    auto rate = ParseDecimal(r.rate());
    if (!rate.ok()) return absl::DataLossError(absl::StrCat("rate of ", r.month(), ": ", rate.status().message()));
    actual_rates_[m] = *rate;
  } else {
    return initiatives_.Apply(type, e).status();
  }
  return absl::OkStatus();
}

const v1::AccountDefined* BudgetBook::FindAccount(const std::string& account) const {
  auto it = accounts_.find(account);
  return it == accounts_.end() ? nullptr : &it->second;
}

Decimal BudgetBook::StandardPrice(const std::string& account) const {
  auto it = prices_.find(account);
  return it == prices_.end() ? Decimal{} : it->second;
}

std::string BudgetBook::ApprovedVersion(absl::CivilMonth month) const {
  auto it = approvals_.upper_bound(month);
  if (it == approvals_.begin()) return "";
  return std::prev(it)->second;
}

bool BudgetBook::IsApproved(const std::string& version) const {
  for (const auto& [m, v] : approvals_) {
    if (v == version) return true;
  }
  return false;
}

int64_t BudgetBook::Budget(const std::string& version, absl::CivilMonth month, const std::string& cost_centre,
                           const std::string& account) const {
  auto it = budgets_.find({version, month, account, cost_centre});
  return it == budgets_.end() ? 0 : it->second;
}

int64_t BudgetBook::AccountBudget(const std::string& version, absl::CivilMonth month,
                                  const std::string& account) const {
  int64_t sum = 0;
  for (auto it = budgets_.lower_bound({version, month, account, ""});
       it != budgets_.end() && std::get<0>(it->first) == version && std::get<1>(it->first) == month &&
       std::get<2>(it->first) == account;
       ++it) {
    AddTo(sum, it->second);  // each cell is bounded when set; a sum cannot leave int64 (see DecideBudget)
  }
  return sum;
}

int64_t BudgetBook::PlannedOutput(const std::string& version, absl::CivilMonth month) const {
  auto it = planned_.find({version, month});
  return it == planned_.end() ? 0 : it->second;
}

bool BudgetBook::HasBudget(const std::string& version) const {
  auto it = budgets_.lower_bound({version, absl::CivilMonth::min(), "", ""});
  return it != budgets_.end() && std::get<0>(it->first) == version;
}

const std::vector<StandardQuantity>* BudgetBook::StandardCard(const std::string& product,
                                                              absl::CivilMonth month) const {
  auto p = standards_.find(product);
  if (p == standards_.end()) return nullptr;
  auto it = p->second.upper_bound(month);
  if (it == p->second.begin()) return nullptr;
  return &std::prev(it)->second;
}

std::optional<Decimal> BudgetBook::ExchangeRate(absl::CivilMonth month) const {
  auto it = rates_.find(month);
  if (it == rates_.end()) return std::nullopt;
  return it->second;
}

std::optional<Decimal> BudgetBook::ActualRate(absl::CivilMonth month) const {
  auto it = actual_rates_.find(month);
  if (it == actual_rates_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::optional<int64_t>> BudgetBook::StandardUnitCost(const std::string& product,
                                                                    absl::CivilMonth month) const {
  const std::vector<StandardQuantity>* card = StandardCard(product, month);
  if (card == nullptr) return std::nullopt;
  int64_t unit_cost = 0;   // minor units per unit
  int64_t unit_hours = 0;  // nanos per unit
  auto add = [](int64_t& sum, int64_t v) -> absl::Status {
    if (!AddTo(sum, v)) return absl::OutOfRangeError("a standard unit cost leaves the int64 range");
    return absl::OkStatus();
  };
  for (const StandardQuantity& line : *card) {
    const v1::AccountDefined* a = FindAccount(line.account);
    if (a != nullptr && a->kind() == v1::DIRECT_LABOUR) TAKT_RETURN_IF_ERROR(add(unit_hours, line.per_unit.nanos));
    TAKT_ASSIGN_OR_RETURN(int64_t c, Cost(line.per_unit, StandardPrice(line.account)));
    TAKT_RETURN_IF_ERROR(add(unit_cost, c));
  }
  for (const auto& [id, a] : accounts_) {
    if (a.kind() != v1::VARIABLE_OVERHEAD && a.kind() != v1::FIXED_OVERHEAD) continue;
    TAKT_ASSIGN_OR_RETURN(int64_t c, Cost(Decimal{unit_hours}, StandardPrice(id)));
    TAKT_RETURN_IF_ERROR(add(unit_cost, c));
  }
  return unit_cost;
}

// ---- Decisions -----------------------------------------------------------------

// One budget cell at most 10^15 minor units (10 trillion in a two-decimal
// currency): a year of every cell of a facility still sums inside int64.
inline constexpr int64_t kMaxCell = 1'000'000'000'000'000;

absl::StatusOr<std::vector<es::Event>> DecideBudget(const BudgetBook& book, const v1::BudgetCommand& c,
                                                    const model::EnterpriseModel& model,
                                                    const std::string& facility, const es::CommandOrigin& origin) {
  auto need_ledger = [&]() -> absl::Status {
    if (!book.configured()) {
      return absl::FailedPreconditionError(
          absl::StrCat("facility '", facility, "' has no ledger yet: configure_ledger first (its currency)"));
    }
    return absl::OkStatus();
  };
  if (auto decided = DecideInitiative(book, c, model, origin)) return *std::move(decided);
  switch (c.command_case()) {
    case v1::BudgetCommand::kConfigureLedger: {
      const auto& l = c.configure_ledger();
      TAKT_RETURN_IF_ERROR(MinorExponent(l.currency()).status());
      v1::LedgerConfigured out = l;
      if (out.reporting_currency().empty()) out.set_reporting_currency(l.currency());
      TAKT_RETURN_IF_ERROR(MinorExponent(out.reporting_currency()).status());
      if (book.configured()) {
        if (book.currency() == out.currency() && book.reporting_currency() == out.reporting_currency()) return std::vector<es::Event>{};
        return absl::FailedPreconditionError(absl::StrCat(
            "facility '", facility, "' keeps its books in ", book.currency(), " reporting in ",
            book.reporting_currency(), "; the currencies of recorded amounts cannot change"));
      }
      return One(out);
    }
    case v1::BudgetCommand::kDefineAccount: {
      const auto& a = c.define_account();
      TAKT_RETURN_IF_ERROR(ValidateId("account", a.account()));
      TAKT_RETURN_IF_ERROR(CheckName("name", a.name()));
      TAKT_RETURN_IF_ERROR(CheckName("unit", a.unit()));
      if (a.kind() == v1::ACCOUNT_KIND_UNSPECIFIED || !v1::AccountKind_IsValid(a.kind())) {
        return Invalid(absl::StrCat("account '", a.account(),
                                    "': kind must be DIRECT_MATERIAL, DIRECT_LABOUR, VARIABLE_OVERHEAD, "
                                    "FIXED_OVERHEAD, MAINTENANCE, SCRAP or OTHER"));
      }
      if (NeedsPrice(a.kind())) {
        if (a.standard_price().empty()) {
          return Invalid(absl::StrCat("account '", a.account(), "': a ", v1::AccountKind_Name(a.kind()),
                                      " account needs a standard_price (minor units per unit)"));
        }
        auto p = ParseDecimal(a.standard_price());
        if (!p.ok()) return Invalid(absl::StrCat("account '", a.account(), "': standard_price: ", p.status().message()));
        if (p->nanos < 0) return Invalid(absl::StrCat("account '", a.account(), "': standard_price must not be negative"));
      } else if (!a.standard_price().empty()) {
        return Invalid(absl::StrCat("account '", a.account(), "': only material, labour and overhead accounts "
                                    "have a standard_price"));
      }
      if (a.hours_from_attendance() && a.kind() != v1::DIRECT_LABOUR) {
        return Invalid(absl::StrCat("account '", a.account(), "': only a DIRECT_LABOUR account takes its hours "
                                    "from attendance"));
      }
      if (a.hours_from_attendance()) {
        for (const auto& [id, other] : book.accounts()) {
          if (id != a.account() && other.hours_from_attendance()) {
            return absl::FailedPreconditionError(absl::StrCat(
                "account '", id, "' already takes the plant's attended hours; one labour account may (the hours "
                "are the plant's, not split by account)"));
          }
        }
      }
      if (const v1::AccountDefined* now = book.FindAccount(a.account())) {
        if (now->kind() != a.kind()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "account '", a.account(), "' is ", v1::AccountKind_Name(now->kind()),
              "; its kind cannot change (the postings on it were classified so): open another account"));
        }
        if (now->SerializeAsString() == a.SerializeAsString()) return std::vector<es::Event>{};
      }
      return One(a);
    }
    case v1::BudgetCommand::kDefineCostCentre: {
      const auto& cc = c.define_cost_centre();
      TAKT_RETURN_IF_ERROR(ValidateId("cost_centre", cc.cost_centre()));
      TAKT_RETURN_IF_ERROR(CheckName("name", cc.name()));
      if (!model.HasArea(facility, cc.cost_centre()) && !model.HasWorkCenter(facility, cc.cost_centre())) {
        return absl::NotFoundError(absl::StrCat("cost centre '", cc.cost_centre(), "' is not an area or work center of ",
                                                facility, " in the enterprise model"));
      }
      if (const v1::CostCentreDefined* now = book.FindCostCentre(cc.cost_centre());
          now != nullptr && now->name() == cc.name()) {
        return std::vector<es::Event>{};
      }
      return One(cc);
    }
    case v1::BudgetCommand::kSetBudget: {
      const auto& b = c.set_budget();
      TAKT_RETURN_IF_ERROR(need_ledger());
      TAKT_RETURN_IF_ERROR(ValidateId("version", b.version()));
      TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, Month("month", b.month()));
      if (!book.HasCostCentre(b.cost_centre())) {
        return absl::NotFoundError(absl::StrCat("cost centre '", b.cost_centre().substr(0, kMaxIdLength),
                                                "' is not defined (define_cost_centre)"));
      }
      if (book.FindAccount(b.account()) == nullptr) {
        return absl::NotFoundError(absl::StrCat("account '", b.account().substr(0, kMaxIdLength),
                                                "' is not defined (define_account)"));
      }
      auto amount = ParseAmount(b.amount(), book.currency());
      if (!amount.ok()) return Invalid(std::string(amount.status().message()));
      if (*amount < -kMaxCell || *amount > kMaxCell) {
        return absl::OutOfRangeError(absl::StrCat("amount ", b.amount(), ": at most 10^15 minor units per cell"));
      }
      const int64_t previous = book.Budget(b.version(), m, b.cost_centre(), b.account());
      if (previous == *amount) return std::vector<es::Event>{};  // a resend, approved or not
      if (book.IsApproved(b.version())) {
        return absl::FailedPreconditionError(absl::StrCat(
            "version '", b.version(), "' is approved and cannot change: set the figures in a new version "
            "(a reforecast) and approve that"));
      }
      v1::BudgetSet out;
      out.set_version(b.version());
      out.set_month(MonthText(m));
      out.set_cost_centre(b.cost_centre());
      out.set_account(b.account());
      out.set_amount(*amount);
      out.set_previous_amount(previous);
      return One(out);
    }
    case v1::BudgetCommand::kSetPlannedOutput: {
      const auto& p = c.set_planned_output();
      TAKT_RETURN_IF_ERROR(ValidateId("version", p.version()));
      TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, Month("month", p.month()));
      if (p.good_units() < 0 || p.good_units() > 1'000'000'000'000) {
        return Invalid(absl::StrCat("good_units ", p.good_units(), ": 0 to 10^12"));
      }
      const int64_t previous = book.PlannedOutput(p.version(), m);
      if (previous == p.good_units()) return std::vector<es::Event>{};
      if (book.IsApproved(p.version())) {
        return absl::FailedPreconditionError(
            absl::StrCat("version '", p.version(), "' is approved and cannot change"));
      }
      v1::PlannedOutputSet out;
      out.set_version(p.version());
      out.set_month(MonthText(m));
      out.set_good_units(p.good_units());
      out.set_previous_good_units(previous);
      return One(out);
    }
    case v1::BudgetCommand::kApproveBudget: {
      const auto& a = c.approve_budget();
      TAKT_RETURN_IF_ERROR(ValidateId("version", a.version()));
      TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, Month("from_month", a.from_month()));
      if (a.reason().empty()) return Invalid("approve_budget: a reason is required");
      TAKT_RETURN_IF_ERROR(CheckName("reason", a.reason()));
      if (!book.HasBudget(a.version())) {
        return absl::FailedPreconditionError(absl::StrCat("version '", a.version(), "' has no budget to approve"));
      }
      if (book.ApprovedVersion(m) == a.version()) return std::vector<es::Event>{};
      v1::BudgetApproved out;
      out.set_version(a.version());
      out.set_from_month(MonthText(m));
      out.set_reason(a.reason());
      return One(out);
    }
    case v1::BudgetCommand::kSetStandardCost: {
      const auto& s = c.set_standard_cost();
      TAKT_RETURN_IF_ERROR(ValidateId("product", s.product()));
      if (!model.PlannedRunTime(s.product()).has_value()) {
        return absl::NotFoundError(absl::StrCat("product '", s.product(), "' is not in the enterprise model"));
      }
      TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, Month("from_month", s.from_month()));
      if (s.lines_size() == 0 || s.lines_size() > kMaxLinesPerCard) {
        return Invalid(absl::StrCat("standard cost of '", s.product(), "': 1 to ", kMaxLinesPerCard, " lines"));
      }
      std::set<std::string> seen;
      for (int i = 0; i < s.lines_size(); ++i) {
        const auto& line = s.lines(i);
        const v1::AccountDefined* a = book.FindAccount(line.account());
        if (a == nullptr) {
          return absl::NotFoundError(absl::StrCat("lines[", i, "]: account '", line.account().substr(0, kMaxIdLength),
                                                  "' is not defined"));
        }
        if (a->kind() != v1::DIRECT_MATERIAL && a->kind() != v1::DIRECT_LABOUR) {
          return Invalid(absl::StrCat("lines[", i, "]: account '", line.account(), "' is ",
                                      v1::AccountKind_Name(a->kind()),
                                      "; a card lists direct material and direct labour (overheads are "
                                      "absorbed per standard labour hour)"));
        }
        if (!seen.insert(line.account()).second) {
          return Invalid(absl::StrCat("lines[", i, "]: account '", line.account(), "' twice"));
        }
        auto q = ParseDecimal(line.quantity_per_unit());
        if (!q.ok()) return Invalid(absl::StrCat("lines[", i, "]: quantity_per_unit: ", q.status().message()));
        if (q->nanos < 0) return Invalid(absl::StrCat("lines[", i, "]: quantity_per_unit must not be negative"));
      }
      if (const std::vector<StandardQuantity>* now = book.StandardCard(s.product(), m);
          now != nullptr && static_cast<int>(now->size()) == s.lines_size()) {
        bool same = true;
        for (int i = 0; i < s.lines_size() && same; ++i) {
          same = (*now)[i].account == s.lines(i).account() &&
                 (*now)[i].per_unit == *ParseDecimal(s.lines(i).quantity_per_unit());
        }
        if (same) return std::vector<es::Event>{};
      }
      v1::StandardCostSet out = s;
      out.set_from_month(MonthText(m));
      return One(out);
    }
    case v1::BudgetCommand::kSetExchangeRate: {
      const auto& r = c.set_exchange_rate();
      TAKT_RETURN_IF_ERROR(need_ledger());
      TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, Month("month", r.month()));
      auto rate = ParseDecimal(r.rate());
      if (!rate.ok()) return Invalid(absl::StrCat("rate: ", rate.status().message()));
      if (rate->nanos <= 0) return Invalid(absl::StrCat("rate ", r.rate(), " must be positive"));
      if (auto now = book.ExchangeRate(m); now && *now == *rate) return std::vector<es::Event>{};
      v1::ExchangeRateSet out;
      out.set_month(MonthText(m));
      out.set_rate(FormatDecimal(*rate));
      return One(out);
    }
    case v1::BudgetCommand::kSetActualRate: {
      const auto& r = c.set_actual_rate();
      TAKT_RETURN_IF_ERROR(need_ledger());
      TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, Month("month", r.month()));
      auto rate = ParseDecimal(r.rate());
      if (!rate.ok()) return Invalid(absl::StrCat("rate: ", rate.status().message()));
      if (rate->nanos <= 0) return Invalid(absl::StrCat("rate ", r.rate(), " must be positive"));
      if (auto now = book.ActualRate(m); now && *now == *rate) return std::vector<es::Event>{};
      v1::ActualExchangeRateSet out;
      out.set_month(MonthText(m));
      out.set_rate(FormatDecimal(*rate));
      return One(out);
    }
    case v1::BudgetCommand::COMMAND_NOT_SET:
    default:
      break;
  }
  return Invalid("a command must set one of its fields");
}

}  // namespace takt::budgets
