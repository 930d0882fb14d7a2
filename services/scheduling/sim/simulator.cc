#include "services/scheduling/sim/simulator.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace takt::sim {
namespace {

namespace ev1 = ::takt::enterprise::v1;
namespace sv1 = ::takt::scheduling::v1;

struct Site {
  const char* id;
  const char* zone;
  const char* region;
};

constexpr Site kSites[] = {
    {"detroit", "America/Detroit", "americas"},   {"stuttgart", "Europe/Berlin", "emea"},
    {"shanghai", "Asia/Shanghai", "apac"},        {"monterrey", "America/Monterrey", "americas"},
    {"pune", "Asia/Kolkata", "apac"},             {"lyon", "Europe/Paris", "emea"},
    {"chicago", "America/Chicago", "americas"},   {"nagoya", "Asia/Tokyo", "apac"},
};

struct Product {
  const char* id;
  int pri_seconds;
};
constexpr Product kProducts[] = {{"door", 40}, {"hood", 75}, {"fender", 30}, {"roof", 90}};

// A machine's behaviour, drawn once per machine.
struct Machine {
  std::string unit;
  double mtbf_hours;
  double mttr_minutes;
  double speed;      // actual / planned rate while running
  double scrap_rate;
  double rework_rate;
};

}  // namespace

Simulation Simulate(const SimOptions& o) {
  std::mt19937_64 rng(o.seed);
  auto uniform = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  auto exponential = [&](double mean) { return std::exponential_distribution<double>(1.0 / mean)(rng); };
  Simulation sim;
  sim.enterprise.set_request_id(absl::StrCat("simulate-", o.seed, "-", o.facilities));
  for (const char* r : {"americas", "emea", "apac"}) {
    sim.enterprise.add_definitions()->mutable_region()->set_region(r);
  }
  for (const Product& p : kProducts) {
    auto* d = sim.enterprise.add_definitions()->mutable_product();
    d->set_product(p.id);
    d->set_planned_run_time_per_item_us(p.pri_seconds * 1'000'000LL);
  }

  std::vector<sv1::ObservationBatch> in_order;
  for (int f = 0; f < o.facilities; ++f) {
    const Site& site = kSites[f % (sizeof(kSites) / sizeof(kSites[0]))];
    const std::string facility = absl::StrCat(site.id, "-", f / 8 + 1);
    auto* fd = sim.enterprise.add_definitions()->mutable_facility();
    fd->set_facility(facility);
    fd->set_display_name(absl::StrCat(site.id, " plant ", f / 8 + 1));
    fd->mutable_calendar()->set_time_zone(site.zone);
    fd->mutable_calendar()->set_day_start("06:00");
    for (auto [n, s, e] : {std::tuple{"A", "06:00", "14:00"}, std::tuple{"B", "14:00", "22:00"},
                           std::tuple{"C", "22:00", "06:00"}}) {
      auto* shift = fd->mutable_calendar()->add_shifts();
      shift->set_name(n);
      shift->set_start(s);
      shift->set_end(e);
    }
    auto* mv = sim.enterprise.add_definitions()->mutable_move();
    mv->set_facility(facility);
    mv->set_region(site.region);
    mv->set_effective_from("2000-01-01");
    auto* area = sim.enterprise.add_definitions()->mutable_area();
    area->set_facility(facility);
    area->set_area("body");
    std::vector<Machine> machines;
    // Some plants are worse than others: their machines fail more often.
    const double plant_reliability = uniform(0.5, 1.5);
    for (int l = 0; l < o.lines_per_facility; ++l) {
      const std::string line = absl::StrCat("line-", l + 1);
      auto* wc = sim.enterprise.add_definitions()->mutable_work_center();
      wc->set_facility(facility);
      wc->set_area("body");
      wc->set_work_center(line);
      for (int u = 0; u < o.units_per_line; ++u) {
        Machine m{absl::StrCat(line, "-m", u + 1), uniform(4, 16) * plant_reliability,
                  uniform(15, 60), uniform(0.82, 0.98), uniform(0.005, 0.04), uniform(0.0, 0.02)};
        auto* wu = sim.enterprise.add_definitions()->mutable_work_unit();
        wu->set_facility(facility);
        wu->set_work_center(line);
        wu->set_work_unit(m.unit);
        machines.push_back(m);
      }
    }

    // Observations, one gateway per facility, batched per hour.
    const absl::TimeZone zone = [&] {
      absl::TimeZone z;
      absl::LoadTimeZone(site.zone, &z);
      return z;
    }();
    const absl::Time begin = absl::FromCivil(absl::CivilHour(o.start) + 6, zone);
    const absl::Time end = begin + absl::Hours(24 * o.days);
    std::vector<std::pair<absl::Time, sv1::Observation>> obs;
    // Each seed is a gateway of its own: another seed on the same server adds
    // its observations instead of conflicting with the first one's.
    const std::string source = absl::StrCat("gw-", facility, "-seed", o.seed);
    for (const Machine& m : machines) {
      absl::Time t = begin;
      const Product* product = &kProducts[rng() % 4];
      auto state = [&](absl::Time at, sv1::UnitState s, const std::string& reason) {
        sv1::Observation ob;
        ob.mutable_state_change()->set_work_unit(m.unit);
        ob.mutable_state_change()->set_state(s);
        ob.mutable_state_change()->set_reason_code(reason);
        ob.mutable_state_change()->set_product(product->id);
        obs.emplace_back(at, ob);
      };
      auto count = [&](absl::Time at, double running_seconds) {
        const double items = running_seconds * m.speed / product->pri_seconds;
        const int64_t total = static_cast<int64_t>(items + uniform(0, 1));
        if (total <= 0) return;
        const int64_t scrap = std::binomial_distribution<int64_t>(total, m.scrap_rate)(rng);
        const int64_t rework = std::binomial_distribution<int64_t>(total - scrap, m.rework_rate)(rng);
        sv1::Observation ob;
        ob.mutable_count()->set_work_unit(m.unit);
        ob.mutable_count()->set_product(product->id);
        ob.mutable_count()->set_good(total - scrap - rework);
        ob.mutable_count()->set_scrap(scrap);
        ob.mutable_count()->set_rework(rework);
        obs.emplace_back(at, ob);
      };
      absl::Time next_failure = t + absl::Seconds(exponential(m.mtbf_hours * 3600));
      absl::Time next_order = t;
      absl::Time next_stop = t + absl::Seconds(exponential(3600));
      absl::Time next_maintenance = begin + absl::Hours(20);  // daily, at 02:00 local
      int order = 0;
      state(t, sv1::UNIT_STATE_RUNNING, "");
      while (t < end) {
        if (t >= next_order) {  // changeover to the next order
          if (order > 0) {
            sv1::Observation end_ob;
            end_ob.mutable_order_ended()->set_work_unit(m.unit);
            end_ob.mutable_order_ended()->set_order_id(absl::StrCat(m.unit, "-wo", order));
            obs.emplace_back(t, end_ob);
          }
          ++order;
          product = &kProducts[rng() % 4];
          sv1::Observation start_ob;
          start_ob.mutable_order_started()->set_work_unit(m.unit);
          start_ob.mutable_order_started()->set_order_id(absl::StrCat(m.unit, "-wo", order));
          start_ob.mutable_order_started()->set_product(product->id);
          obs.emplace_back(t, start_ob);
          const absl::Duration setup = absl::Minutes(uniform(15, 40));
          state(t, sv1::UNIT_STATE_SETUP, "changeover");
          t += setup;
          state(t, sv1::UNIT_STATE_RUNNING, "");
          next_order = t + absl::Hours(uniform(3, 6));
          continue;
        }
        if (t >= next_maintenance) {
          state(t, sv1::UNIT_STATE_PLANNED_DOWNTIME, "planned-maintenance");
          t += absl::Minutes(30);
          state(t, sv1::UNIT_STATE_RUNNING, "");
          next_maintenance += absl::Hours(24);
          continue;
        }
        // Run until the next event or 15 minutes, then count.
        absl::Time until = std::min({t + absl::Minutes(15), next_failure, next_order, next_stop,
                                     next_maintenance, end});
        count(until - absl::Seconds(1), absl::ToDoubleSeconds(until - t));
        t = until;
        if (t >= end) break;
        if (t >= next_failure) {
          static constexpr const char* kReasons[] = {"hydraulic-leak", "die-crack", "sensor-fault",
                                                     "feeder-jam", "electrical"};
          state(t, sv1::UNIT_STATE_DOWN, kReasons[rng() % 5]);
          t += absl::Seconds(exponential(m.mttr_minutes * 60));
          state(t, sv1::UNIT_STATE_RUNNING, "");
          next_failure = t + absl::Seconds(exponential(m.mtbf_hours * 3600));
        } else if (t >= next_stop) {
          state(t, sv1::UNIT_STATE_DELAYED, "minor-stop");
          t += absl::Seconds(uniform(60, 300));
          state(t, sv1::UNIT_STATE_RUNNING, "");
          next_stop = t + absl::Seconds(exponential(3600));
        }
      }
      state(end, sv1::UNIT_STATE_IDLE, "end-of-simulation");
      if (order > 0) {
        sv1::Observation end_ob;
        end_ob.mutable_order_ended()->set_work_unit(m.unit);
        end_ob.mutable_order_ended()->set_order_id(absl::StrCat(m.unit, "-wo", order));
        obs.emplace_back(end, end_ob);
      }
    }
    std::stable_sort(obs.begin(), obs.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    // Hourly batches in time order, numbered by the gateway.
    uint64_t seq = 0;
    sv1::ObservationBatch batch;
    absl::Time batch_hour = absl::InfinitePast();
    for (auto& [at, ob] : obs) {
      const absl::Time hour = absl::FromUnixSeconds(absl::ToUnixSeconds(at) / 3600 * 3600);
      if (hour != batch_hour && batch.observations_size() > 0) {
        in_order.push_back(batch);
        batch.Clear();
      }
      batch_hour = hour;
      batch.set_facility(facility);
      ob.set_source_id(source);
      ob.set_source_sequence(++seq);
      ob.mutable_source_time()->set_seconds(absl::ToUnixSeconds(at));
      ob.mutable_source_time()->set_nanos(static_cast<int32_t>(absl::ToUnixNanos(at) % 1'000'000'000));
      *batch.add_observations() = ob;
      ++sim.observations;
    }
    if (batch.observations_size() > 0) in_order.push_back(batch);
  }

  // Interleave facilities by time, then add resends and late deliveries.
  std::stable_sort(in_order.begin(), in_order.end(), [](const auto& a, const auto& b) {
    return a.observations(0).source_time().seconds() < b.observations(0).source_time().seconds();
  });
  std::vector<sv1::ObservationBatch> late;
  for (auto& b : in_order) {
    if (uniform(0, 1) < o.late_fraction) {
      late.push_back(b);
      ++sim.late_batches;
      continue;
    }
    sim.batches.push_back(b);
    if (uniform(0, 1) < o.resend_fraction) {
      sim.batches.push_back(b);  // the gateway reconnected and resent
      ++sim.resent_batches;
    }
    // Late batches arrive about a day after they happened.
    if (!late.empty() && sim.batches.size() % 97 == 0) {
      for (auto& l : late) sim.batches.push_back(std::move(l));
      late.clear();
    }
  }
  for (auto& l : late) sim.batches.push_back(std::move(l));
  uint64_t id = 0;
  for (auto& b : sim.batches) b.set_batch_id(++id);
  return sim;
}

}  // namespace takt::sim
