#include "libs/kpi/unit_timeline.h"

#include <algorithm>

namespace takt::kpi {
namespace {

int64_t Micros(absl::Duration d) { return absl::ToInt64Microseconds(d); }

// Microseconds between two instants, each taken to the microsecond below:
// the pieces of an interval split at hour boundaries add up to exactly the
// whole interval, however it is split.
int64_t MicrosBetween(absl::Time from, absl::Time to) {
  return absl::ToUnixMicros(to) - absl::ToUnixMicros(from);
}

bool IsZero(const ElementSums& s) { return s == ElementSums{}; }

}  // namespace

void Merge(HourlyDelta& a, const HourlyDelta& b) {
  for (const auto& [hour, delta] : b) {
    ElementSums& target = a[hour];
    target += delta;
    if (IsZero(target)) a.erase(hour);
  }
}

namespace {
bool IsStoppage(UnitState s) { return s == UnitState::kDelayed || s == UnitState::kDown; }
}  // namespace

void UnitTimeline::AddInterval(absl::Time from, absl::Time to, const Change& change, int sign,
                               HourlyDelta& out, ReasonDelta* reasons) const {
  const UnitState state = change.state;
  for (absl::Time hour = calendar_->HourStart(from); hour < to;) {
    const absl::Time next = calendar_->HourStart(hour + absl::Hours(1) + absl::Seconds(1));
    const int64_t us = sign * MicrosBetween(std::max(from, hour), std::min(to, next));
    ElementSums& e = out[hour];
    if (reasons != nullptr && IsStoppage(state)) {
      (*reasons)[{hour, change.reason.empty() ? "(no reason)" : change.reason}].micros += us;
    }
    switch (state) {
      case UnitState::kRunning:
        e[Element::kApt] += us;
        e[Element::kPbt] += us;
        e[Element::kTbf] += us;
        e[Element::kTtf] += us;
        break;
      case UnitState::kSetup:
        e[Element::kAust] += us;
        e[Element::kPbt] += us;
        e[Element::kTbf] += us;
        e[Element::kTtf] += us;
        break;
      case UnitState::kDelayed:
        e[Element::kAdet] += us;
        e[Element::kPbt] += us;
        break;
      case UnitState::kDown:
        e[Element::kAdet] += us;
        e[Element::kPbt] += us;
        e[Element::kTtr] += us;
        break;
      case UnitState::kIdle:
        e[Element::kAdot] += us;
        e[Element::kPbt] += us;
        break;
      case UnitState::kPlannedDowntime:
        e[Element::kPdt] += us;
        break;
    }
    hour = next;
  }
}

void UnitTimeline::Contribute(Changes::const_iterator first, Changes::const_iterator last,
                              int sign, HourlyDelta& out, ReasonDelta* reasons) const {
  for (auto it = first; it != last; ++it) {
    auto next = std::next(it);
    if (next == changes_.end()) break;  // the open interval is not counted yet
    AddInterval(it->first, std::min(next->first, it->first + kMaxStateSpan), it->second, sign,
                out, reasons);
    // A failure is counted where the unit goes down from another state.
    if (next->second.state == UnitState::kDown && it->second.state != UnitState::kDown) {
      out[calendar_->HourStart(next->first)][Element::kFe] += sign;
    }
    // A stoppage starts where the state or its reason changes into one.
    if (reasons != nullptr && IsStoppage(next->second.state) &&
        (next->second.state != it->second.state || next->second.reason != it->second.reason)) {
      const std::string& r = next->second.reason.empty() ? "(no reason)" : next->second.reason;
      (*reasons)[{calendar_->HourStart(next->first), r}].stoppages += sign;
    }
  }
}

HourlyDelta UnitTimeline::ChangeState(absl::Time t, UnitState state, const std::string& reason,
                                      ReasonDelta* reasons) {
  // The affected stretch runs from the change before t to the change after.
  auto window_begin = [&]() {
    auto it = changes_.lower_bound(t);
    return it == changes_.begin() ? it : std::prev(it);
  };
  auto window_end = [&]() {
    auto it = changes_.upper_bound(t);
    return it == changes_.end() ? it : std::next(it);
  };
  HourlyDelta delta;
  ReasonDelta reason_delta;
  ReasonDelta* rd = reasons != nullptr ? &reason_delta : nullptr;
  Contribute(window_begin(), window_end(), -1, delta, rd);
  changes_[t] = Change{state, reason};
  HourlyDelta after;
  Contribute(window_begin(), window_end(), +1, after, rd);
  Merge(delta, after);
  if (reasons != nullptr) {
    for (const auto& [key, sums] : reason_delta) {
      if (sums == ReasonSums{}) continue;
      ReasonSums& target = (*reasons)[key];
      target.micros += sums.micros;
      target.stoppages += sums.stoppages;
    }
  }
  for (auto it = delta.begin(); it != delta.end();) {
    it = IsZero(it->second) ? delta.erase(it) : std::next(it);
  }
  return delta;
}

void UnitTimeline::ContributeOrders(std::map<absl::Time, bool>::const_iterator first,
                                    std::map<absl::Time, bool>::const_iterator last, int sign,
                                    HourlyDelta& out) const {
  for (auto it = first; it != last; ++it) {
    auto next = std::next(it);
    if (next == orders_.end()) break;  // an order still running is not counted yet
    if (!it->second) continue;
    const absl::Time end = std::min(next->first, it->first + kMaxStateSpan);
    for (absl::Time hour = calendar_->HourStart(it->first); hour < end;) {
      const absl::Time h_next = calendar_->HourStart(hour + absl::Hours(1) + absl::Seconds(1));
      out[hour][Element::kAoet] +=
          sign * MicrosBetween(std::max(it->first, hour), std::min(end, h_next));
      hour = h_next;
    }
  }
}

HourlyDelta UnitTimeline::OrderChange(absl::Time t, bool started) {
  auto window_begin = [&]() {
    auto it = orders_.lower_bound(t);
    return it == orders_.begin() ? it : std::prev(it);
  };
  auto window_end = [&]() { return orders_.upper_bound(t); };
  HourlyDelta delta;
  ContributeOrders(window_begin(), window_end(), -1, delta);
  orders_[t] = started;
  HourlyDelta after;
  ContributeOrders(window_begin(), window_end(), +1, after);
  Merge(delta, after);
  for (auto it = delta.begin(); it != delta.end();) {
    it = IsZero(it->second) ? delta.erase(it) : std::next(it);
  }
  return delta;
}

HourlyDelta UnitTimeline::Count(absl::Time t, int64_t good, int64_t scrap, int64_t rework,
                                absl::Duration pri) const {
  HourlyDelta out;
  ElementSums& e = out[calendar_->HourStart(t)];
  // Checked: the edge bounds each observation, but corrections add
  // differences and nothing here may wrap.
  const int64_t pq = AddChecked(AddChecked(good, scrap), rework);
  e[Element::kPq] = pq;
  e[Element::kGq] = good;
  e[Element::kSq] = scrap;
  e[Element::kRq] = rework;
  e[Element::kPriPq] = MulChecked(pq, Micros(pri));
  e[Element::kPriGq] = MulChecked(good, Micros(pri));
  return out;
}

HourlyDelta UnitTimeline::Totals() const {
  HourlyDelta out;
  Contribute(changes_.begin(), changes_.end(), +1, out, nullptr);
  ContributeOrders(orders_.begin(), orders_.end(), +1, out);
  for (auto it = out.begin(); it != out.end();) {
    it = IsZero(it->second) ? out.erase(it) : std::next(it);
  }
  return out;
}

ReasonDelta UnitTimeline::ReasonTotals() const {
  HourlyDelta ignored;
  ReasonDelta out;
  Contribute(changes_.begin(), changes_.end(), +1, ignored, &out);
  for (auto it = out.begin(); it != out.end();) {
    it = it->second == ReasonSums{} ? out.erase(it) : std::next(it);
  }
  return out;
}

}  // namespace takt::kpi
