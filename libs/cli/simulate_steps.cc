#include "libs/cli/simulate_steps.h"

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

}  // namespace takt::cli
