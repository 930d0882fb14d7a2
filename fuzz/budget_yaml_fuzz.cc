// A budget file: the YAML loader, then every command decided against the
// record built so far (money parsing, accounts, initiatives), never a crash.
#include <cstdint>
#include <string_view>

#include "absl/time/time.h"
#include "services/budgets/budget_book.h"
#include "services/budgets/cli.h"
#include "services/budgets/money.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)takt::budgets::ParseDecimal(text);
  (void)takt::budgets::ParseAmount(text, "USD");
  auto request = takt::budgets::BudgetFromYaml(text);
  if (!request.ok()) return 0;
  static const takt::model::EnterpriseModel model;
  takt::budgets::BudgetBook book;
  const takt::es::CommandOrigin origin{"service:fuzz", absl::FromUnixSeconds(1'800'000'000)};
  for (const auto& c : request->commands()) {
    auto events = takt::budgets::DecideBudget(book, c, model, "plant", origin);
    if (!events.ok()) continue;
    for (const auto& e : *events) (void)book.Apply(e);
  }
  return 0;
}
