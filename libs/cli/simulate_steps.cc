#include "libs/cli/simulate_steps.h"

#include "absl/time/clock.h"
#include "libs/model/enterprise_model.h"

namespace takt::cli {
namespace {

std::vector<std::pair<std::string, SimulateStep>>& Steps() {
  static auto* steps = new std::vector<std::pair<std::string, SimulateStep>>();
  return *steps;
}

}  // namespace

void AddSimulateStep(std::string name, SimulateStep step) {
  for (auto& [n, s] : Steps()) {
    if (n == name) {
      s = std::move(step);  // the same context registering again (tests build the CLI twice)
      return;
    }
  }
  Steps().emplace_back(std::move(name), std::move(step));
}

const std::vector<std::pair<std::string, SimulateStep>>& SimulateSteps() { return Steps(); }

std::optional<absl::CivilDay> SimulationStart(const std::string& start, int days,
                                              const std::string& command, std::ostream& err) {
  if (start.empty()) return absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) - days - 1;
  auto day = model::ParseDay(start);
  if (!day.ok()) {
    err << "takt: " << command << ": --start: " << day.status().message() << "\n";
    return std::nullopt;
  }
  return *day;
}

}  // namespace takt::cli
