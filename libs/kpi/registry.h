// File: registry.h
// -----------------------------------------------------------------------------
// The KPI registry: every KPI Takt reports, with its ISO 22400-2 reference,
// formula, unit and better direction, defined as a product of ratios of
// element sums. Rollups and the auditors' recomputation share it, so a KPI
// means the same thing on every path. Ratios are always taken of sums at the
// requested scope, never averaged (site A 90 % OEE over 10 h and site B 50 %
// over 990 h roll up to 50.4 %, not 70 %).
#ifndef TAKT_LIBS_KPI_REGISTRY_H_
#define TAKT_LIBS_KPI_REGISTRY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libs/kpi/elements.h"

namespace takt::kpi {

enum class Better { kHigher, kLower };

// Sum(numerator) / Sum(denominator), elements by their index in the KPI's
// family (for production, the Element values).
struct Factor {
  Factor(std::vector<int> n, std::vector<int> d)
      : numerator(std::move(n)), denominator(std::move(d)) {}
  Factor(const std::vector<Element>& n, const std::vector<Element>& d)
      : numerator(Indexes(n)), denominator(Indexes(d)) {}
  std::vector<int> numerator;
  std::vector<int> denominator;

 private:
  static std::vector<int> Indexes(const std::vector<Element>& elements) {
    std::vector<int> out;
    for (Element e : elements) out.push_back(static_cast<int>(e));
    return out;
  }
};

struct KpiDef {
  std::string id;         // stable, e.g. "oee"
  std::string name;       // "OEE index"
  std::string unit;       // "%", "h", "items/h"
  Better better = Better::kHigher;
  std::string iso_ref;    // "ISO 22400-2:2014 KPI 6"
  std::string formula;    // "A x E x Q = PRI*GQ / PBT"
  std::vector<Factor> factors;  // value = scale x product of factors
  double scale = 1.0;
  // The element family the factors index (family.h); "production": the
  // ISO 22400 elements of elements.h.
  std::string family = "production";
};

// The production KPIs, in a stable order.
const std::vector<KpiDef>& Registry();

// The KPI with this id (production or a registered family's), or nullptr.
const KpiDef* FindKpi(std::string_view id);

// The KPI's value for these sums; nullopt when a denominator is zero (no
// data for the scope and period: never reported as 0).
std::optional<double> Evaluate(const KpiDef& kpi, const ElementSums& sums);
// The same over a family's values (indexes out of range count as 0).
std::optional<double> Evaluate(const KpiDef& kpi, const std::vector<int64_t>& values);

}  // namespace takt::kpi

#endif  // TAKT_LIBS_KPI_REGISTRY_H_
