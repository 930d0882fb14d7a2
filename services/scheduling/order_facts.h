// File: order_facts.h
// -----------------------------------------------------------------------------
// What the rollups know of a work order (due date, last committed planned
// window, completion, cancellation) and its contribution to the facility's
// hourly elements: scheduled and in-window on the hour of the planned end,
// completed / on time / late / lateness on the hour of completion. When a
// fact changes (a re-committed schedule, a completion), the projection
// writes the new contribution minus the old one, so sums stay exact.
#ifndef TAKT_SERVICES_SCHEDULING_ORDER_FACTS_H_
#define TAKT_SERVICES_SCHEDULING_ORDER_FACTS_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "libs/kpi/calendar.h"
#include "libs/kpi/unit_timeline.h"

namespace takt::scheduling {

struct OrderFacts {
  std::optional<absl::Time> due;
  std::optional<absl::Time> planned_start;
  std::optional<absl::Time> planned_end;
  std::optional<absl::Time> completed;
  bool cancelled = false;

  std::string Encode() const;
  static std::optional<OrderFacts> Decode(std::string_view bytes);
  bool operator==(const OrderFacts&) const = default;
};

kpi::HourlyDelta OrderContribution(const OrderFacts& facts, const kpi::FacilityCalendar& calendar);

// `after` minus `before`, hour by hour.
kpi::HourlyDelta OrderChange(const OrderFacts& before, const OrderFacts& after,
                             const kpi::FacilityCalendar& calendar);

}  // namespace takt::scheduling

#endif  // TAKT_SERVICES_SCHEDULING_ORDER_FACTS_H_
