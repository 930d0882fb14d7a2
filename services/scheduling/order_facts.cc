#include "services/scheduling/order_facts.h"

#include "libs/storage/rocksdb_util.h"

namespace takt::scheduling {
namespace {

using kpi::Element;

constexpr size_t kEncodedSize = 1 + 4 * 8;

}  // namespace

std::string OrderFacts::Encode() const {
  std::string out;
  const std::optional<absl::Time>* times[] = {&due, &planned_start, &planned_end, &completed};
  uint8_t flags = cancelled ? 0x10 : 0;
  for (int i = 0; i < 4; ++i) {
    if (times[i]->has_value()) flags |= static_cast<uint8_t>(1 << i);
  }
  out.push_back(static_cast<char>(flags));
  for (const auto* t : times) {
    storage::PutBigEndian64(&out, t->has_value() ? static_cast<uint64_t>(absl::ToUnixMicros(**t)) : 0);
  }
  return out;
}

std::optional<OrderFacts> OrderFacts::Decode(std::string_view bytes) {
  if (bytes.size() != kEncodedSize) return std::nullopt;
  OrderFacts f;
  const uint8_t flags = static_cast<uint8_t>(bytes[0]);
  std::optional<absl::Time>* times[] = {&f.due, &f.planned_start, &f.planned_end, &f.completed};
  for (int i = 0; i < 4; ++i) {
    if (flags & (1 << i)) {
      *times[i] = absl::FromUnixMicros(
          static_cast<int64_t>(storage::GetBigEndian64(bytes.substr(1 + 8 * i, 8))));
    }
  }
  f.cancelled = (flags & 0x10) != 0;
  return f;
}

kpi::HourlyDelta OrderContribution(const OrderFacts& f, const kpi::FacilityCalendar& cal) {
  kpi::HourlyDelta out;
  if (f.cancelled) return out;
  if (f.planned_end) {
    kpi::ElementSums& s = out[cal.HourStart(*f.planned_end)];
    s[Element::kOrdersScheduled] += 1;
    if (f.completed && *f.completed <= *f.planned_end &&
        (!f.planned_start || *f.completed >= *f.planned_start)) {
      s[Element::kOrdersInWindow] += 1;
    }
  }
  if (f.completed) {
    kpi::ElementSums& s = out[cal.HourStart(*f.completed)];
    s[Element::kOrdersCompleted] += 1;
    if (f.due) {
      s[Element::kOrdersWithDue] += 1;
      s[*f.completed <= *f.due ? Element::kOrdersOnTime : Element::kOrdersLate] += 1;
      s[Element::kLateness] += absl::ToInt64Microseconds(*f.completed - *f.due);
    }
  }
  return out;
}

kpi::HourlyDelta OrderChange(const OrderFacts& before, const OrderFacts& after,
                             const kpi::FacilityCalendar& cal) {
  kpi::HourlyDelta out = OrderContribution(after, cal);
  for (const auto& [hour, sums] : OrderContribution(before, cal)) {
    kpi::ElementSums& s = out[hour];
    for (int i = 0; i < kpi::kElementCount; ++i) s.v[i] -= sums.v[i];
  }
  return out;
}

}  // namespace takt::scheduling
