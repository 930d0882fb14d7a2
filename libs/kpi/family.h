// File: family.h
// -----------------------------------------------------------------------------
// Element families: how a context brings its own additive quantities (and the
// KPIs that are ratios of them) to the rollups without touching anyone
// else's. The ISO 22400 production elements (elements.h) are the family
// "production", folded by the rollups' own projection; every other family is
// declared by the context that owns its events:
//
//   kpi::FamilyRegistration r;
//   r.context = "quality";
//   r.family = {"quality", {{"INSPECTED", false}, {"DEFECTS", false}, ...}};
//   r.kpis = {{"first_pass_yield", ..., {{{0}, {1}}}, 100.0, "quality"}};
//   r.fold = [] { return std::make_unique<QualityFold>(); };
//
// A fold turns one event of its context into deltas of its family per
// (facility, work unit or none, instant); the rollups put each delta in the
// facility-local hour and production day of that instant, store the family's
// rows under keys of its own and keep the family's own cursor in the same
// WriteBatch. So a family added later is built from the start of the log
// while the others' rows and cursors stay as they are: no rebuild.
//
// Folds are pure and stateless (one event -> deltas): a rebuild, an
// auditor's recomputation and the live projection fold the same events into
// the same sums.
#ifndef TAKT_LIBS_KPI_FAMILY_H_
#define TAKT_LIBS_KPI_FAMILY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/kpi/registry.h"
#include "takt/eventlog/v1/envelope.pb.h"

namespace takt::kpi {

inline constexpr char kProductionFamily[] = "production";

struct ElementDef {
  std::string name;   // short, upper case: "INSPECTED"
  bool time = false;  // microseconds (true) or a count/amount (false)
};

struct Family {
  std::string name;  // [a-z][a-z0-9_]*; rows are kept under it
  std::vector<ElementDef> elements;
};

// A family's element sums, in its element order; additions are
// overflow-checked (kOverflowed sticks).
using Values = std::vector<int64_t>;
void AddInto(Values& into, const Values& add);

// One change a fold made: `values` (the family's width) for a facility, a
// work unit of it ("" for the facility as a whole) at instant `at`.
struct FamilyDelta {
  std::string facility;
  std::string unit;
  absl::Time at;
  Values values;
};

class Fold {
 public:
  virtual ~Fold() = default;
  // The deltas of one event of the context (none for events it does not
  // fold). An error stops the projection at this event (said once, the
  // service's health NOT_SERVING) until it is fixed.
  virtual absl::Status Apply(const eventlog::v1::Envelope& event, std::vector<FamilyDelta>& out) = 0;
};

struct FamilyRegistration {
  std::string context;  // whose events the fold reads
  Family family;
  std::vector<KpiDef> kpis;  // each with .family = family.name
  std::function<std::unique_ptr<Fold>()> fold;
  // Optional: a second, independently written fold that audit explain
  // recomputes the family's elements with (from raw events); without one,
  // explain runs `fold` over the raw events on its own, apart from the
  // projection's store, merges, cursor and batches.
  std::function<std::unique_ptr<Fold>()> explain_fold;
};

// Registers a family and its KPIs for this process (before the rollups
// start; normally through services/registry.cc). INVALID_ARGUMENT for a
// bad name, an empty family, a KPI naming another family or an element
// index out of range; ALREADY_EXISTS for a family or KPI id taken.
absl::Status RegisterFamily(FamilyRegistration registration);

// Every registered family (not production), in registration order. The
// pointers stay valid for the process's lifetime.
std::vector<const FamilyRegistration*> Families();
// The family named `name`, or nullptr (production has none: elements.h).
const FamilyRegistration* FindFamily(std::string_view name);

}  // namespace takt::kpi

#endif  // TAKT_LIBS_KPI_FAMILY_H_
