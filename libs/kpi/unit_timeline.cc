#include "libs/kpi/unit_timeline.h"

#include <algorithm>

namespace takt::kpi {
namespace {

int64_t Micros(absl::Duration d) { return absl::ToInt64Microseconds(d); }

bool IsZero(const ElementSums& s) { return s == ElementSums{}; }

}  // namespace

void Merge(HourlyDelta& a, const HourlyDelta& b) {
  for (const auto& [hour, delta] : b) {
    ElementSums& target = a[hour];
    target += delta;
    if (IsZero(target)) a.erase(hour);
  }
}

void UnitTimeline::AddInterval(absl::Time from, absl::Time to, UnitState state, int sign,
                               HourlyDelta& out) const {
  for (absl::Time hour = calendar_->HourStart(from); hour < to;) {
    const absl::Time next = calendar_->HourStart(hour + absl::Hours(1) + absl::Seconds(1));
    const int64_t us = sign * Micros(std::min(to, next) - std::max(from, hour));
    ElementSums& e = out[hour];
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
                              int sign, HourlyDelta& out) const {
  for (auto it = first; it != last; ++it) {
    auto next = std::next(it);
    if (next == changes_.end()) break;  // the open interval is not counted yet
    AddInterval(it->first, next->first, it->second, sign, out);
    // A failure is counted where the unit goes down from another state.
    if (next->second == UnitState::kDown && it->second != UnitState::kDown) {
      out[calendar_->HourStart(next->first)][Element::kFe] += sign;
    }
  }
}

HourlyDelta UnitTimeline::ChangeState(absl::Time t, UnitState state) {
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
  Contribute(window_begin(), window_end(), -1, delta);
  changes_[t] = state;
  HourlyDelta after;
  Contribute(window_begin(), window_end(), +1, after);
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
  const int64_t pq = good + scrap + rework;
  e[Element::kPq] = pq;
  e[Element::kGq] = good;
  e[Element::kSq] = scrap;
  e[Element::kRq] = rework;
  e[Element::kPriPq] = pq * Micros(pri);
  e[Element::kPriGq] = good * Micros(pri);
  return out;
}

HourlyDelta UnitTimeline::Totals() const {
  HourlyDelta out;
  Contribute(changes_.begin(), changes_.end(), +1, out);
  return out;
}

}  // namespace takt::kpi
