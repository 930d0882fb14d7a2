#include "bench/bench_budgets.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "libs/common/plan_stream.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/model/model_store.h"
#include "services/budgets/budgets.h"
#include "services/enterprise/definitions.h"
#include "takt/budgets/v1/budgets_service.pb.h"
#include "takt/enterprise/v1/enterprise_service.pb.h"
#include "takt/scheduling/v1/events.pb.h"

namespace takt::cli {

namespace ev1 = ::takt::enterprise::v1;
namespace bv1 = ::takt::budgets::v1;

absl::StatusOr<std::vector<BenchResult>> RunBudgetsBenchmark(const BenchBudgetsOptions& o) {
  if (o.facilities < 1 || o.postings_per_month < 1 || o.queries < 1) {
    return absl::InvalidArgumentError("every option must be positive");
  }
  const std::string dir = BenchTempDir("budgets");
  std::vector<BenchResult> results;
  const absl::CivilMonth first(2025, 1);
  const absl::Time now = absl::FromCivil(absl::CivilDay(2026, 1, 15), absl::UTCTimeZone());
  ev1::ApplyDefinitionsRequest apply;
  apply.set_request_id("bench-budgets-setup");
  apply.add_definitions()->mutable_region()->set_region("emea");
  auto* product = apply.add_definitions()->mutable_product();
  product->set_product("jacket");
  product->set_planned_run_time_per_item_us(60'000'000);
  for (int f = 0; f < o.facilities; ++f) {
    const std::string id = absl::StrCat("plant-", f);
    auto* fd = apply.add_definitions()->mutable_facility();
    fd->set_facility(id);
    fd->mutable_calendar()->set_time_zone("UTC");
    auto* mv = apply.add_definitions()->mutable_move();
    mv->set_facility(id);
    mv->set_region("emea");
    mv->set_effective_from("2000-01-01");
    auto* a = apply.add_definitions()->mutable_area();
    a->set_facility(id);
    a->set_area("body");
    auto* w = apply.add_definitions()->mutable_work_center();
    w->set_facility(id);
    w->set_area("body");
    w->set_work_center("press");
    auto* u = apply.add_definitions()->mutable_work_unit();
    u->set_facility(id);
    u->set_work_center("press");
    u->set_work_unit("press-1");
  }
  eventlog::EmbeddedLogOptions lo;
  lo.data_dir = dir;
  TAKT_ASSIGN_OR_RETURN(auto log, eventlog::OpenEmbeddedLog(lo));
  model::ModelStore models(log.get());
  TAKT_RETURN_IF_ERROR(enterprise::Definitions(log.get(), &models).Apply(apply, {"bench", now}).status());
  TAKT_RETURN_IF_ERROR(models.Refresh());
  budgets::Budgets b(log.get(), &models);
  const char* kAccounts[] = {"cloth", "labour", "fixed-oh", "energy"};
  for (int f = 0; f < o.facilities; ++f) {
    const std::string id = absl::StrCat("plant-", f);
    bv1::ApplyBudgetRequest r;
    r.set_facility(id);
    auto cmd = [&] { return r.add_commands(); };
    cmd()->mutable_configure_ledger()->set_currency("USD");
    r.mutable_commands(0)->mutable_configure_ledger()->set_reporting_currency("EUR");
    for (auto [acct, kind, price] : {std::tuple{"cloth", bv1::DIRECT_MATERIAL, "3000"},
                                     std::tuple{"labour", bv1::DIRECT_LABOUR, "2000"},
                                     std::tuple{"fixed-oh", bv1::FIXED_OVERHEAD, "2875"},
                                     std::tuple{"energy", bv1::OTHER, ""}}) {
      auto* a = cmd()->mutable_define_account();
      a->set_account(acct);
      a->set_name(acct);
      a->set_kind(kind);
      a->set_standard_price(price);
      a->set_variable(std::string(acct) == "energy");
    }
    cmd()->mutable_define_cost_centre()->set_cost_centre("press");
    for (int m = 0; m < 12; ++m) {
      const std::string month = budgets::MonthText(first + m);
      for (auto [acct, amount] : {std::pair{"cloth", "720000"}, std::pair{"labour", "192000"},
                                  std::pair{"fixed-oh", "276000"}, std::pair{"energy", "60000"}}) {
        auto* s = cmd()->mutable_set_budget();
        s->set_version("original");
        s->set_month(month);
        s->set_cost_centre("press");
        s->set_account(acct);
        s->set_amount(amount);
      }
      auto* p = cmd()->mutable_set_planned_output();
      p->set_version("original");
      p->set_month(month);
      p->set_good_units(12000);
      auto* rate = cmd()->mutable_set_exchange_rate();
      rate->set_month(month);
      rate->set_rate(m % 2 == 0 ? "0.92" : "0.9317");
    }
    auto* approve = cmd()->mutable_approve_budget();
    approve->set_version("original");
    approve->set_from_month(budgets::MonthText(first));
    approve->set_reason("bench");
    auto* card = cmd()->mutable_set_standard_cost();
    card->set_product("jacket");
    card->set_from_month(budgets::MonthText(first));
    auto* l = card->add_lines();
    l->set_account("cloth");
    l->set_quantity_per_unit("2");
    l = card->add_lines();
    l->set_account("labour");
    l->set_quantity_per_unit("0.8");
    TAKT_RETURN_IF_ERROR(b.ApplyBudget(r, {"bench", now}).status());
    // Output: a count a day.
    eventlog::AppendRequest counts;
    counts.context = kSchedulingContext;
    counts.facility = id;
    for (absl::CivilDay d(2025, 1, 1); d < absl::CivilDay(2026, 1, 1); ++d) {
      scheduling::v1::ProductionCounted c;
      c.set_work_unit("press-1");
      c.set_product("jacket");
      c.set_good(330);
      c.set_scrap(3);
      c.set_planned_run_time_per_item_us(60'000'000);
      eventlog::Envelope e;
      e.set_event_type(std::string(c.GetDescriptor()->full_name()));
      e.set_payload(c.SerializeAsString());
      *e.mutable_occurred_time() = ToProto(absl::FromCivil(d, absl::UTCTimeZone()) + absl::Hours(12));
      counts.events.push_back(std::move(e));
    }
    TAKT_RETURN_IF_ERROR(log->Append(std::move(counts)).status());
  }

  // Postings: a year of them per plant, in batches of 1,000.
  {
    std::vector<double> batch_ms;
    uint64_t postings = 0;
    const absl::Time t0 = absl::Now();
    for (int f = 0; f < o.facilities; ++f) {
      bv1::PostingBatch batch;
      batch.set_facility(absl::StrCat("plant-", f));
      auto flush = [&]() -> absl::Status {
        if (batch.postings_size() == 0) return absl::OkStatus();
        batch.set_batch_id(batch.batch_id() + 1);
        const absl::Time s = absl::Now();
        TAKT_ASSIGN_OR_RETURN(bv1::PostingAck ack, b.Ingest(batch, "bench", now));
        batch_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - s));
        if (ack.accepted() != static_cast<uint32_t>(batch.postings_size())) {
          return absl::InternalError(absl::StrCat("postings rejected: ",
                                                  ack.rejected_size() ? ack.rejected(0).reason() : ""));
        }
        postings += ack.accepted();
        batch.clear_postings();
        return absl::OkStatus();
      };
      for (int m = 0; m < 12; ++m) {
        const absl::CivilMonth month = first + m;
        for (int k = 0; k < o.postings_per_month; ++k) {
          auto* p = batch.add_postings();
          p->set_document(absl::StrCat("doc-", m, "-", k));
          p->set_account(kAccounts[k % 4]);
          p->set_cost_centre("press");
          p->set_day(absl::FormatCivilTime(absl::CivilDay(month) + k % 28));
          p->set_amount(absl::StrCat(10 + k % 997, ".", (k * 7) % 100 < 10 ? "0" : "", (k * 7) % 100));
          if (k % 4 < 2) p->set_quantity(absl::StrCat(1 + k % 13, ".5"));
          if (batch.postings_size() == 1000) TAKT_RETURN_IF_ERROR(flush());
        }
      }
      TAKT_RETURN_IF_ERROR(flush());
    }
    BenchResult r;
    r.name = "budgets_postings_import";
    r.events = postings;
    r.seconds = absl::ToDoubleSeconds(absl::Now() - t0);
    r.events_per_second = static_cast<double>(postings) / r.seconds;
    r.appends_per_second = static_cast<double>(batch_ms.size()) / r.seconds;
    r.p50_ms = Percentile(batch_ms, 0.5);
    r.p99_ms = Percentile(batch_ms, 0.99);
    results.push_back(r);
  }

  // The region's year by month.
  {
    bv1::VarianceRequest q;
    q.set_region("emea");
    q.set_from_month(budgets::MonthText(first));
    q.set_to_month(budgets::MonthText(first + 11));
    q.set_by_month(true);
    TAKT_RETURN_IF_ERROR(b.Variances(q).status());  // warm: output and postings loaded
    std::vector<double> ms;
    for (int i = 0; i < o.queries; ++i) {
      const absl::Time t0 = absl::Now();
      TAKT_ASSIGN_OR_RETURN(bv1::VarianceResponse resp, b.Variances(q));
      ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      if (resp.months_size() != 12) return absl::InternalError("the report lacks months");
    }
    BenchResult r;
    r.name = absl::StrCat("budgets_region_variances_12_months_", o.facilities, "_plants");
    r.events = static_cast<uint64_t>(o.queries);
    r.p50_ms = Percentile(ms, 0.5);
    r.p99_ms = Percentile(ms, 0.99);
    results.push_back(r);
  }
  log.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return results;
}

}  // namespace takt::cli
