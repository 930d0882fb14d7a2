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

// Every addition into a sink is overflow-checked (sticky kOverflowed), as
// ElementSums' own += is: a sink may already hold an overflowed sum.
void Add(ElementSums& e, Element element, int64_t v) { e[element] = AddChecked(e[element], v); }

// A sink into maps, for the callers that want a delta of their own.
class MapSink final : public DeltaSink {
 public:
  MapSink(HourlyDelta& hours, ReasonDelta* reasons) : hours_(hours), reasons_(reasons) {}
  ElementSums& Hour(absl::Time hour) override { return hours_[hour]; }
  ReasonSums* Reason(absl::Time hour, const std::string& reason) override {
    return reasons_ == nullptr ? nullptr : &(*reasons_)[{hour, reason}];
  }

 private:
  HourlyDelta& hours_;
  ReasonDelta* reasons_;
};

void DropZeros(HourlyDelta& d) {
  for (auto it = d.begin(); it != d.end();) it = IsZero(it->second) ? d.erase(it) : std::next(it);
}

void DropZeros(ReasonDelta& d) {
  for (auto it = d.begin(); it != d.end();) {
    it = it->second == ReasonSums{} ? d.erase(it) : std::next(it);
  }
}

const std::string& ReasonName(const std::string& reason) {
  static const std::string* const kNoReason = new std::string("(no reason)");
  return reason.empty() ? *kNoReason : reason;
}

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
                               DeltaSink& out) const {
  const UnitState state = change.state;
  for (absl::Time hour = calendar_->HourStart(from); hour < to;) {
    const absl::Time next = calendar_->HourStart(hour + absl::Hours(1) + absl::Seconds(1));
    const int64_t us = sign * MicrosBetween(std::max(from, hour), std::min(to, next));
    if (IsStoppage(state)) {
      if (ReasonSums* r = out.Reason(hour, ReasonName(change.reason))) r->micros += us;
    }
    ElementSums& e = out.Hour(hour);
    switch (state) {
      case UnitState::kRunning:
        Add(e, Element::kApt, us);
        Add(e, Element::kPbt, us);
        Add(e, Element::kTbf, us);
        Add(e, Element::kTtf, us);
        break;
      case UnitState::kSetup:
        Add(e, Element::kAust, us);
        Add(e, Element::kPbt, us);
        Add(e, Element::kTbf, us);
        Add(e, Element::kTtf, us);
        break;
      case UnitState::kDelayed:
        Add(e, Element::kAdet, us);
        Add(e, Element::kPbt, us);
        break;
      case UnitState::kDown:
        Add(e, Element::kAdet, us);
        Add(e, Element::kPbt, us);
        Add(e, Element::kTtr, us);
        break;
      case UnitState::kIdle:
        Add(e, Element::kAdot, us);
        Add(e, Element::kPbt, us);
        break;
      case UnitState::kPlannedDowntime:
        Add(e, Element::kPdt, us);
        break;
    }
    hour = next;
  }
}

void UnitTimeline::Contribute(Changes::const_iterator first, Changes::const_iterator last,
                              int sign, DeltaSink& out) const {
  for (auto it = first; it != last; ++it) {
    auto next = std::next(it);
    if (next == changes_.end()) break;  // the open interval is not counted yet
    AddInterval(it->first, std::min(next->first, it->first + kMaxStateSpan), it->second, sign,
                out);
    // A failure is counted where the unit goes down from another state.
    if (next->second.state == UnitState::kDown && it->second.state != UnitState::kDown) {
      Add(out.Hour(calendar_->HourStart(next->first)), Element::kFe, sign);
    }
    // A stoppage starts where the state or its reason changes into one.
    if (IsStoppage(next->second.state) &&
        (next->second.state != it->second.state || next->second.reason != it->second.reason)) {
      ReasonSums* r = out.Reason(calendar_->HourStart(next->first), ReasonName(next->second.reason));
      if (r != nullptr) r->stoppages += sign;
    }
  }
}

void UnitTimeline::ChangeState(absl::Time t, UnitState state, const std::string& reason,
                               DeltaSink& sink) {
  // The affected stretch runs from the change before t to the change after.
  auto window_begin = [&]() {
    auto it = changes_.lower_bound(t);
    return it == changes_.begin() ? it : std::prev(it);
  };
  auto window_end = [&]() {
    auto it = changes_.upper_bound(t);
    return it == changes_.end() ? it : std::next(it);
  };
  Contribute(window_begin(), window_end(), -1, sink);
  changes_[t] = Change{state, reason};
  Contribute(window_begin(), window_end(), +1, sink);
}

HourlyDelta UnitTimeline::ChangeState(absl::Time t, UnitState state, const std::string& reason,
                                      ReasonDelta* reasons) {
  HourlyDelta delta;
  ReasonDelta reason_delta;
  MapSink sink(delta, reasons != nullptr ? &reason_delta : nullptr);
  ChangeState(t, state, reason, sink);
  if (reasons != nullptr) {
    DropZeros(reason_delta);
    for (const auto& [key, sums] : reason_delta) {
      ReasonSums& target = (*reasons)[key];
      target.micros += sums.micros;
      target.stoppages += sums.stoppages;
    }
  }
  DropZeros(delta);
  return delta;
}

void UnitTimeline::ContributeOrders(std::map<absl::Time, bool>::const_iterator first,
                                    std::map<absl::Time, bool>::const_iterator last, int sign,
                                    DeltaSink& out) const {
  for (auto it = first; it != last; ++it) {
    auto next = std::next(it);
    if (next == orders_.end()) break;  // an order still running is not counted yet
    if (!it->second) continue;
    const absl::Time end = std::min(next->first, it->first + kMaxStateSpan);
    for (absl::Time hour = calendar_->HourStart(it->first); hour < end;) {
      const absl::Time h_next = calendar_->HourStart(hour + absl::Hours(1) + absl::Seconds(1));
      Add(out.Hour(hour), Element::kAoet,
          sign * MicrosBetween(std::max(it->first, hour), std::min(end, h_next)));
      hour = h_next;
    }
  }
}

void UnitTimeline::OrderChange(absl::Time t, bool started, DeltaSink& sink) {
  auto window_begin = [&]() {
    auto it = orders_.lower_bound(t);
    return it == orders_.begin() ? it : std::prev(it);
  };
  auto window_end = [&]() { return orders_.upper_bound(t); };
  ContributeOrders(window_begin(), window_end(), -1, sink);
  orders_[t] = started;
  ContributeOrders(window_begin(), window_end(), +1, sink);
}

HourlyDelta UnitTimeline::OrderChange(absl::Time t, bool started) {
  HourlyDelta delta;
  MapSink sink(delta, nullptr);
  OrderChange(t, started, sink);
  DropZeros(delta);
  return delta;
}

void UnitTimeline::Count(absl::Time t, int64_t good, int64_t scrap, int64_t rework,
                         absl::Duration pri, DeltaSink& sink) const {
  ElementSums& e = sink.Hour(calendar_->HourStart(t));
  // Checked: the edge bounds each observation, but corrections add
  // differences and nothing here may wrap.
  const int64_t pq = AddChecked(AddChecked(good, scrap), rework);
  Add(e, Element::kPq, pq);
  Add(e, Element::kGq, good);
  Add(e, Element::kSq, scrap);
  Add(e, Element::kRq, rework);
  Add(e, Element::kPriPq, MulChecked(pq, Micros(pri)));
  Add(e, Element::kPriGq, MulChecked(good, Micros(pri)));
}

HourlyDelta UnitTimeline::Count(absl::Time t, int64_t good, int64_t scrap, int64_t rework,
                                absl::Duration pri) const {
  HourlyDelta out;
  MapSink sink(out, nullptr);
  Count(t, good, scrap, rework, pri, sink);
  return out;
}

HourlyDelta UnitTimeline::Totals() const {
  HourlyDelta out;
  MapSink sink(out, nullptr);
  Contribute(changes_.begin(), changes_.end(), +1, sink);
  ContributeOrders(orders_.begin(), orders_.end(), +1, sink);
  DropZeros(out);
  return out;
}

ReasonDelta UnitTimeline::ReasonTotals() const {
  HourlyDelta ignored;
  ReasonDelta out;
  MapSink sink(ignored, &out);
  Contribute(changes_.begin(), changes_.end(), +1, sink);
  DropZeros(out);
  return out;
}

}  // namespace takt::kpi
