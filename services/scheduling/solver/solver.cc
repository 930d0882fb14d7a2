#include "services/scheduling/solver/solver.h"

#include <algorithm>
#include <random>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/status_macros.h"

namespace takt::sched {
namespace {

// Lexicographic: the objective, a tie-breaker, then the makespan.
struct Cost {
  double primary = 0;
  double secondary = 0;
  Time makespan = 0;
  bool operator<(const Cost& o) const {
    return std::tie(primary, secondary, makespan) < std::tie(o.primary, o.secondary, o.makespan);
  }
};

constexpr Cost kInfeasible{1e300, 1e300, std::numeric_limits<Time>::max()};

// Moves `op` to position `to` of `unit` (for a reassignment, with `option`).
struct Move {
  int op = -1;
  int unit = -1;
  int to = -1;
  int option = -1;  // >= 0: a move to another unit
};

// Pairs (a before b) that may not be re-created until an iteration.
class TabuMemory {
 public:
  explicit TabuMemory(int n) : n_(n) {
    if (n <= kDenseLimit) dense_.assign(static_cast<size_t>(n) * n, 0);
  }
  void Forbid(int a, int b, int64_t until) {
    if (!dense_.empty()) {
      dense_[static_cast<size_t>(a) * n_ + b] = until;
    } else {
      sparse_[Key(a, b)] = until;
    }
  }
  bool Forbidden(int a, int b, int64_t now) const {
    if (!dense_.empty()) return dense_[static_cast<size_t>(a) * n_ + b] > now;
    auto it = sparse_.find(Key(a, b));
    return it != sparse_.end() && it->second > now;
  }
  // An operation may not go back to a unit it left.
  void ForbidUnit(int op, int unit, int64_t until) { units_[Key(op, unit)] = until; }
  bool UnitForbidden(int op, int unit, int64_t now) const {
    auto it = units_.find(Key(op, unit));
    return it != units_.end() && it->second > now;
  }

 private:
  static constexpr int kDenseLimit = 3000;
  static uint64_t Key(int a, int b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b); }
  int n_;
  std::vector<int64_t> dense_;
  absl::flat_hash_map<uint64_t, int64_t> sparse_;
  absl::flat_hash_map<uint64_t, int64_t> units_;
};

class Engine {
 public:
  Engine(const Problem& p, Objective objective)
      : p_(p), objective_(objective), n_(static_cast<int>(p.ops.size())),
        fast_(objective == Objective::kMakespan && p.IsPureJobShop()),
        has_setups_(!p.sequence_setups.empty() ||
                    std::any_of(p.ops.begin(), p.ops.end(),
                                [](const Operation& o) { return o.setup > 0; })) {
    succs_.resize(n_);
    for (int i = 0; i < n_; ++i) {
      for (int pred : p_.ops[i].predecessors) succs_[pred].push_back(i);
    }
    option_.assign(n_, 0);
    unit_.assign(n_, 0);
    pos_.assign(n_, 0);
    seq_.assign(p_.units.size(), {});
    start_.assign(n_, 0);
    setup_start_.assign(n_, 0);
    end_.assign(n_, 0);
    crit_.assign(n_, -1);
    q_.assign(n_, 0);
    indeg_.assign(n_, 0);
    order_.reserve(n_);
    if (fast_) {
      jp_.assign(n_, -1);
      js_.assign(n_, -1);
      for (int i = 0; i < n_; ++i) {
        if (!p_.ops[i].predecessors.empty()) {
          jp_[i] = p_.ops[i].predecessors[0];
          js_[jp_[i]] = i;
        }
      }
    }
  }

  bool fast() const { return fast_; }
  int n() const { return n_; }

  Time Duration(int o) const { return p_.ops[o].options[option_[o]].duration; }

  // Giffler-Thompson active schedule generation.
  absl::Status Construct() {
    std::vector<Time> unit_free(p_.units.size(), 0);
    std::vector<int> unit_last(p_.units.size(), -1);
    std::vector<int> missing(n_);
    std::vector<Time> job_ready(n_, 0);
    std::vector<Time> remaining_work(n_, 0);  // own + successors' shortest durations
    // Work remaining along the longest successor chain (shortest options).
    std::vector<int> topo = TopologicalOrder();
    for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
      const int o = *it;
      Time best = std::numeric_limits<Time>::max();
      for (const Option& opt : p_.ops[o].options) best = std::min(best, opt.duration);
      Time after = 0;
      for (int s : succs_[o]) after = std::max(after, remaining_work[s]);
      remaining_work[o] = best + after;
    }
    std::vector<int> eligible;
    for (int i = 0; i < n_; ++i) {
      missing[i] = static_cast<int>(p_.ops[i].predecessors.size());
      job_ready[i] = p_.jobs[p_.ops[i].job].release;
      if (missing[i] == 0) eligible.push_back(i);
    }
    for (int step = 0; step < n_; ++step) {
      // The earliest completion over eligible operations and their units.
      Time best_end = std::numeric_limits<Time>::max();
      int best_unit = -1;
      for (int o : eligible) {
        for (const Option& opt : p_.ops[o].options) {
          auto placed = Place(o, opt, unit_free[opt.unit], unit_last[opt.unit], job_ready[o]);
          if (placed && placed->back().end < best_end) {
            best_end = placed->back().end;
            best_unit = opt.unit;
          }
        }
      }
      if (best_unit < 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "operation '", p_.ops[eligible.front()].id,
            "' cannot be placed before the horizon on any of its units' calendars"));
      }
      // Conflict set: operations that could start on that unit before then;
      // pick by the priority rule.
      int chosen = -1;
      double chosen_key = 0;
      int chosen_option = -1;
      for (int o : eligible) {
        for (size_t k = 0; k < p_.ops[o].options.size(); ++k) {
          const Option& opt = p_.ops[o].options[k];
          if (opt.unit != best_unit) continue;
          auto placed = Place(o, opt, unit_free[best_unit], unit_last[best_unit], job_ready[o]);
          // (The operation that ends first is always in, also when it
          // takes no time.)
          if (!placed || (placed->front().start >= best_end && placed->back().end > best_end)) {
            continue;
          }
          double key;
          if (objective_ == Objective::kMakespan || p_.jobs[p_.ops[o].job].due == kNoDue) {
            key = -static_cast<double>(remaining_work[o]);  // most work remaining first
          } else {
            // Least slack first, weighted.
            const Job& job = p_.jobs[p_.ops[o].job];
            const double slack = static_cast<double>(job.due - placed->front().start - remaining_work[o]);
            key = slack / std::max(1e-9, job.weight);
          }
          if (chosen < 0 || key < chosen_key) {
            chosen = o;
            chosen_key = key;
            chosen_option = static_cast<int>(k);
          }
        }
      }
      const Option& opt = p_.ops[chosen].options[chosen_option];
      auto placed = Place(chosen, opt, unit_free[best_unit], unit_last[best_unit], job_ready[chosen]);
      option_[chosen] = chosen_option;
      unit_[chosen] = best_unit;
      pos_[chosen] = static_cast<int>(seq_[best_unit].size());
      seq_[best_unit].push_back(chosen);
      unit_free[best_unit] = placed->back().end;
      unit_last[best_unit] = chosen;
      eligible.erase(std::find(eligible.begin(), eligible.end(), chosen));
      for (int s : succs_[chosen]) {
        job_ready[s] = std::max(job_ready[s], placed->back().end);
        if (--missing[s] == 0) eligible.push_back(s);
      }
    }
    return absl::OkStatus();
  }

  // Decodes the sequences into times (semi-active: everything as early as
  // the sequences allow). Returns kInfeasible on a cycle or beyond the
  // horizon.
  Cost Decode() {
    if (!Order()) return kInfeasible;
    for (int o : order_) {
      const Operation& op = p_.ops[o];
      Time job_ready = p_.jobs[op.job].release;
      int jpred = -1;
      for (int pred : op.predecessors) {
        if (end_[pred] >= job_ready) {
          job_ready = end_[pred];
          jpred = pred;
        }
      }
      const int u = unit_[o];
      const int mp = pos_[o] > 0 ? seq_[u][pos_[o] - 1] : -1;
      const Time unit_free = mp >= 0 ? end_[mp] : 0;
      const Time d = Duration(o);
      if (fast_) {
        const Time r = std::max(job_ready, unit_free);
        start_[o] = setup_start_[o] = r;
        end_[o] = r + d;
        crit_[o] = (mp >= 0 && unit_free >= job_ready) ? mp : jpred;
        continue;
      }
      const Time setup = p_.SetupBefore(u, mp, o);
      const Time ready = std::max(unit_free, job_ready - setup);
      const UnitCalendar& cal = p_.units[u].calendar;
      if (cal.always()) {
        setup_start_[o] = ready;
        start_[o] = ready + setup;
        end_[o] = ready + setup + d;
      } else {
        auto pieces = cal.Fit(ready, setup + d, op.splittable);
        if (!pieces) return kInfeasible;
        setup_start_[o] = pieces->front().start;
        end_[o] = pieces->back().end;
        start_[o] = ProcessingStart(*pieces, setup);
        if (record_pieces_ && pieces->size() > 1) pieces_[o] = std::move(*pieces);
      }
      if (end_[o] > p_.horizon) return kInfeasible;
      crit_[o] = (mp >= 0 && unit_free >= job_ready - setup) ? mp : jpred;
    }
    if (fast_) Tails();
    return CurrentCost();
  }

  Cost CurrentCost() const {
    Cost c;
    completion_.assign(p_.jobs.size(), 0);
    last_op_.assign(p_.jobs.size(), -1);
    for (int o = 0; o < n_; ++o) {
      const int j = p_.ops[o].job;
      if (end_[o] >= completion_[j]) {
        completion_[j] = end_[o];
        last_op_[j] = o;
      }
      c.makespan = std::max(c.makespan, end_[o]);
    }
    if (objective_ == Objective::kMakespan) {
      c.primary = static_cast<double>(c.makespan);
      return c;
    }
    double twt = 0;
    int late = 0;
    for (size_t j = 0; j < p_.jobs.size(); ++j) {
      if (p_.jobs[j].due == kNoDue) continue;
      const Time t = completion_[j] - p_.jobs[j].due;
      if (t > 0) {
        ++late;
        twt += p_.jobs[j].weight * static_cast<double>(t);
      }
    }
    if (objective_ == Objective::kWeightedTardiness) {
      c.primary = twt;
    } else {
      c.primary = late;
      c.secondary = twt;
    }
    return c;
  }

  // Candidate moves from the critical blocks of the chains that matter.
  void Neighbourhood(std::vector<Move>* moves, std::mt19937_64& rng) {
    moves->clear();
    std::vector<int> heads;
    if (objective_ == Objective::kMakespan) {
      heads.push_back(static_cast<int>(std::max_element(end_.begin(), end_.end()) - end_.begin()));
    } else {
      // The most (weighted) late jobs; the makespan chain when none is late.
      std::vector<std::pair<double, int>> late;
      for (size_t j = 0; j < p_.jobs.size(); ++j) {
        if (p_.jobs[j].due == kNoDue || last_op_[j] < 0) continue;
        const Time t = completion_[j] - p_.jobs[j].due;
        if (t > 0) late.push_back({-p_.jobs[j].weight * static_cast<double>(t), static_cast<int>(j)});
      }
      std::sort(late.begin(), late.end());
      for (size_t k = 0; k < late.size() && k < 3; ++k) heads.push_back(last_op_[late[k].second]);
      if (heads.empty()) {
        heads.push_back(static_cast<int>(std::max_element(end_.begin(), end_.end()) - end_.begin()));
      }
    }
    (void)rng;
    seen_moves_.clear();
    for (int head : heads) {
      chain_.clear();
      for (int o = head; o >= 0; o = crit_[o]) chain_.push_back(o);
      std::reverse(chain_.begin(), chain_.end());
      // Blocks: runs of machine-adjacent operations on one unit.
      size_t b = 0;
      const bool makespan = objective_ == Objective::kMakespan;
      while (b < chain_.size()) {
        size_t e = b;
        while (e + 1 < chain_.size() && unit_[chain_[e + 1]] == unit_[chain_[b]] &&
               pos_[chain_[e + 1]] == pos_[chain_[e]] + 1) {
          ++e;
        }
        // N7's pruning (no move to the front of the first block or the
        // back of the last) holds only without setups: with them, the
        // order inside a block changes the setups paid, hence the makespan.
        const bool first = b == 0 && makespan && !has_setups_;
        const bool last = e + 1 == chain_.size() && makespan && !has_setups_;
        AddBlockMoves(b, e, first, last, moves);
        b = e + 1;
      }
      // Other units for the chain's operations.
      for (int o : chain_) {
        const auto& options = p_.ops[o].options;
        if (options.size() < 2) continue;
        for (size_t k = 0; k < options.size(); ++k) {
          if (static_cast<int>(k) == option_[o]) continue;
          const int u = options[k].unit;
          const auto& s = seq_[u];
          int at = static_cast<int>(std::upper_bound(s.begin(), s.end(), start_[o], [&](Time t, int x) {
                                      return t < start_[x];
                                    }) - s.begin());
          AddMove({o, u, at, static_cast<int>(k)}, moves);
        }
      }
    }
  }

  // The head/tail estimate of a move's makespan (fast path).
  Time Estimate(const Move& m) {
    const int u = m.unit;
    const auto& s = seq_[u];
    const int from = pos_[m.op];
    const int lo = std::min(from, m.to), hi = std::max(from, m.to);
    segment_.clear();
    if (m.to > from) {
      for (int k = from + 1; k <= m.to; ++k) segment_.push_back(s[k]);
      segment_.push_back(m.op);
    } else {
      segment_.push_back(m.op);
      for (int k = m.to; k < from; ++k) segment_.push_back(s[k]);
    }
    Time prev_end = lo > 0 ? end_[s[lo - 1]] : 0;
    heads_.resize(segment_.size());
    for (size_t k = 0; k < segment_.size(); ++k) {
      const int y = segment_[k];
      const Time rj = jp_[y] >= 0 ? end_[jp_[y]] : 0;
      heads_[k] = std::max(rj, prev_end);
      prev_end = heads_[k] + Duration(y);
    }
    Time next = hi + 1 < static_cast<int>(s.size()) ? q_[s[hi + 1]] + Duration(s[hi + 1]) : 0;
    Time est = 0;
    for (size_t k = segment_.size(); k-- > 0;) {
      const int y = segment_[k];
      const Time qj = js_[y] >= 0 ? q_[js_[y]] + Duration(js_[y]) : 0;
      const Time qq = std::max(qj, next);
      next = qq + Duration(y);
      est = std::max(est, heads_[k] + Duration(y) + qq);
    }
    return est;
  }

  // Sufficient condition for a move not to create a cycle (fast path).
  bool SurelyAcyclic(const Move& m) const {
    const auto& s = seq_[m.unit];
    const int from = pos_[m.op];
    if (m.to > from) {
      const int v = s[m.to];
      const int js = js_[m.op];
      return js < 0 || q_[v] + Duration(v) >= q_[js] + Duration(js);
    }
    const int u = s[m.to];
    const int jp = jp_[m.op];
    return jp < 0 || start_[u] + Duration(u) >= start_[jp] + Duration(jp);
  }

  bool Tabu(const Move& m, int64_t iter, const TabuMemory& tabu) const {
    if (m.option >= 0) return tabu.UnitForbidden(m.op, m.unit, iter);
    const auto& s = seq_[m.unit];
    const int from = pos_[m.op];
    if (m.to > from) {
      for (int k = from + 1; k <= m.to; ++k) {
        if (tabu.Forbidden(s[k], m.op, iter)) return true;
      }
    } else {
      for (int k = m.to; k < from; ++k) {
        if (tabu.Forbidden(m.op, s[k], iter)) return true;
      }
    }
    return false;
  }

  // Records the pairs a move reverses as tabu (before applying it).
  void RecordTabu(const Move& m, int64_t until, TabuMemory* tabu) const {
    if (m.option >= 0) {
      tabu->ForbidUnit(m.op, unit_[m.op], until);
      return;
    }
    const auto& s = seq_[m.unit];
    const int from = pos_[m.op];
    if (m.to > from) {
      for (int k = from + 1; k <= m.to; ++k) tabu->Forbid(m.op, s[k], until);
    } else {
      for (int k = m.to; k < from; ++k) tabu->Forbid(s[k], m.op, until);
    }
  }

  struct Undo {
    int op, unit, pos, option;
  };

  Undo Apply(const Move& m) {
    Undo undo{m.op, unit_[m.op], pos_[m.op], option_[m.op]};
    Remove(m.op);
    if (m.option >= 0) option_[m.op] = m.option;
    Insert(m.op, m.unit, m.to);
    return undo;
  }

  void Revert(const Undo& u) {
    Remove(u.op);
    option_[u.op] = u.option;
    Insert(u.op, u.unit, u.pos);
  }

  struct Snapshot {
    std::vector<int> option;
    std::vector<std::vector<int>> seq;
  };
  Snapshot Save() const { return {option_, seq_}; }
  void Restore(const Snapshot& s) {
    option_ = s.option;
    seq_ = s.seq;
    for (size_t u = 0; u < seq_.size(); ++u) {
      for (size_t k = 0; k < seq_[u].size(); ++k) {
        unit_[seq_[u][k]] = static_cast<int>(u);
        pos_[seq_[u][k]] = static_cast<int>(k);
      }
    }
  }

  // The schedule of the current sequences, with pieces where split.
  Schedule Build() {
    record_pieces_ = true;
    pieces_.assign(n_, {});
    Decode();
    record_pieces_ = false;
    Schedule s;
    s.ops.resize(n_);
    for (int o = 0; o < n_; ++o) {
      Assignment& a = s.ops[o];
      a.unit = unit_[o];
      a.setup_start = setup_start_[o];
      a.start = start_[o];
      a.end = end_[o];
      a.pieces = std::move(pieces_[o]);
    }
    return s;
  }

  // Right-justifies the current sequences: every operation as late as its
  // successors, its unit's next operation and its job's deadline allow.
  Schedule BuildBackward(const std::vector<Time>& deadline) {
    Schedule fwd = Build();
    std::vector<int> topo = order_;  // from the Decode() in Build()
    Schedule s = fwd;
    for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
      const int o = *it;
      const Operation& op = p_.ops[o];
      const int u = unit_[o];
      Time limit = std::min(deadline[op.job], p_.horizon);
      for (int succ : succs_[o]) limit = std::min(limit, s.ops[succ].start);
      const int ms = pos_[o] + 1 < static_cast<int>(seq_[u].size()) ? seq_[u][pos_[o] + 1] : -1;
      if (ms >= 0) limit = std::min(limit, s.ops[ms].setup_start);
      const int mp = pos_[o] > 0 ? seq_[u][pos_[o] - 1] : -1;
      const Time setup = p_.SetupBefore(u, mp, o);
      auto pieces = p_.units[u].calendar.FitBackward(limit, setup + Duration(o), op.splittable);
      if (!pieces || pieces->front().start < fwd.ops[o].setup_start) continue;  // keep forward
      Assignment& a = s.ops[o];
      a.setup_start = pieces->front().start;
      a.end = pieces->back().end;
      a.start = ProcessingStart(*pieces, setup);
      a.pieces = pieces->size() > 1 ? *pieces : std::vector<Interval>{};
    }
    return s;
  }

 private:
  static Time ProcessingStart(const std::vector<Interval>& pieces, Time setup) {
    Time left = setup;
    for (const Interval& piece : pieces) {
      const Time len = piece.end - piece.start;
      if (left < len || (left == len && &piece == &pieces.back())) return piece.start + left;
      left -= len;
    }
    return pieces.back().end;
  }

  std::optional<std::vector<Interval>> Place(int o, const Option& opt, Time unit_free, int unit_last,
                                             Time job_ready) const {
    const Time setup = p_.SetupBefore(opt.unit, unit_last, o);
    const Time ready = std::max(unit_free, job_ready - setup);
    auto pieces = p_.units[opt.unit].calendar.Fit(ready, setup + opt.duration, p_.ops[o].splittable);
    if (!pieces || pieces->back().end > p_.horizon) return std::nullopt;
    return pieces;
  }

  std::vector<int> TopologicalOrder() const {
    std::vector<int> indeg(n_, 0), out;
    for (int i = 0; i < n_; ++i) indeg[i] = static_cast<int>(p_.ops[i].predecessors.size());
    for (int i = 0; i < n_; ++i) {
      if (indeg[i] == 0) out.push_back(i);
    }
    for (size_t k = 0; k < out.size(); ++k) {
      for (int s : succs_[out[k]]) {
        if (--indeg[s] == 0) out.push_back(s);
      }
    }
    return out;
  }

  // Topological order of operations under precedence and unit sequences;
  // false on a cycle.
  bool Order() {
    order_.clear();
    for (int i = 0; i < n_; ++i) {
      indeg_[i] = static_cast<int>(p_.ops[i].predecessors.size()) + (pos_[i] > 0 ? 1 : 0);
      if (indeg_[i] == 0) order_.push_back(i);
    }
    for (size_t k = 0; k < order_.size(); ++k) {
      const int o = order_[k];
      for (int s : succs_[o]) {
        if (--indeg_[s] == 0) order_.push_back(s);
      }
      const auto& s = seq_[unit_[o]];
      if (pos_[o] + 1 < static_cast<int>(s.size())) {
        const int ms = s[pos_[o] + 1];
        if (--indeg_[ms] == 0) order_.push_back(ms);
      }
    }
    return static_cast<int>(order_.size()) == n_;
  }

  // Tails (longest path after an operation, excluding it), fast path.
  void Tails() {
    for (int k = n_ - 1; k >= 0; --k) {
      const int o = order_[k];
      Time q = 0;
      if (js_[o] >= 0) q = q_[js_[o]] + Duration(js_[o]);
      const auto& s = seq_[unit_[o]];
      if (pos_[o] + 1 < static_cast<int>(s.size())) {
        const int ms = s[pos_[o] + 1];
        q = std::max(q, q_[ms] + Duration(ms));
      }
      q_[o] = q;
    }
  }

  void AddBlockMoves(size_t b, size_t e, bool first, bool last, std::vector<Move>* moves) {
    if (e == b) return;
    const int u = unit_[chain_[b]];
    const int p0 = pos_[chain_[b]];
    const int pk = pos_[chain_[e]];
    for (size_t i = b + 1; i <= e && !first; ++i) AddMove({chain_[i], u, p0, -1}, moves);
    for (size_t i = b; i < e && !last; ++i) AddMove({chain_[i], u, pk, -1}, moves);
    for (size_t i = b + 1; i < e; ++i) {
      if (!first) AddMove({chain_[b], u, pos_[chain_[i]], -1}, moves);
      if (!last) AddMove({chain_[e], u, pos_[chain_[i]], -1}, moves);
    }
  }

  void AddMove(const Move& m, std::vector<Move>* moves) {
    if (m.option < 0 && m.to == pos_[m.op]) return;
    const uint64_t key = (static_cast<uint64_t>(m.op) << 32) |
                         static_cast<uint32_t>(m.to * 64 + (m.option < 0 ? 63 : m.option));
    if (!seen_moves_.insert(key).second) return;
    moves->push_back(m);
  }

  void Remove(int o) {
    auto& s = seq_[unit_[o]];
    s.erase(s.begin() + pos_[o]);
    for (size_t k = pos_[o]; k < s.size(); ++k) pos_[s[k]] = static_cast<int>(k);
  }

  void Insert(int o, int unit, int at) {
    auto& s = seq_[unit];
    at = std::min<int>(at, static_cast<int>(s.size()));
    s.insert(s.begin() + at, o);
    unit_[o] = unit;
    for (size_t k = at; k < s.size(); ++k) pos_[s[k]] = static_cast<int>(k);
  }

  const Problem& p_;
  const Objective objective_;
  const int n_;
  const bool fast_;
  const bool has_setups_;  // any setup time: the order within a block matters
  std::vector<std::vector<int>> succs_;
  std::vector<int> jp_, js_;  // job chains (fast path)
  std::vector<int> option_, unit_, pos_;
  std::vector<std::vector<int>> seq_;
  std::vector<Time> start_, setup_start_, end_, q_;
  std::vector<int> crit_;
  std::vector<int> indeg_, order_;
  mutable std::vector<Time> completion_;
  mutable std::vector<int> last_op_;
  std::vector<int> chain_, segment_;
  std::vector<Time> heads_;
  absl::flat_hash_set<uint64_t> seen_moves_;
  bool record_pieces_ = false;
  std::vector<std::vector<Interval>> pieces_;
};

}  // namespace

std::string_view ObjectiveName(Objective o) {
  switch (o) {
    case Objective::kMakespan: return "makespan";
    case Objective::kWeightedTardiness: return "weighted_tardiness";
    case Objective::kLateJobs: return "late_orders";
  }
  return "?";
}

absl::StatusOr<Objective> ParseObjective(std::string_view name) {
  if (name == "makespan") return Objective::kMakespan;
  if (name == "weighted_tardiness" || name == "tardiness") return Objective::kWeightedTardiness;
  if (name == "late_orders" || name == "late_jobs") return Objective::kLateJobs;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown objective '", std::string(name), "' (makespan, weighted_tardiness, late_orders)"));
}

absl::StatusOr<SolveResult> Solve(const Problem& problem, const SolveOptions& options) {
  TAKT_RETURN_IF_ERROR(Validate(problem));
  const absl::Time t0 = absl::Now();
  const absl::Time deadline = t0 + options.time_limit;
  Objective objective = options.objective;
  if (options.direction == Direction::kBackward && objective == Objective::kMakespan) {
    objective = Objective::kWeightedTardiness;  // backward plans work to due dates
  }
  SolveResult result;
  Engine engine(problem, objective);
  if (engine.n() == 0) return result;
  TAKT_RETURN_IF_ERROR(engine.Construct());
  Cost current = engine.Decode();
  if (current.primary >= kInfeasible.primary) {
    return absl::InternalError("the construction heuristic produced an infeasible plan");
  }
  Cost best = current;
  Engine::Snapshot best_plan = engine.Save();
  result.trace.push_back({absl::ToDoubleSeconds(absl::Now() - t0), best.primary});
  {
    Schedule initial = engine.Build();
    result.initial = Evaluate(problem, initial);
    engine.Decode();
  }

  std::mt19937_64 rng(options.seed);
  TabuMemory tabu(engine.n());
  const int jobs = static_cast<int>(problem.jobs.size());
  const int units = std::max<int>(1, static_cast<int>(problem.units.size()));
  const int tenure_min = 10 + jobs / units;
  const int tenure_span = std::max(1, tenure_min * 2 / 5);
  const int64_t stall_limit = 4000 + 40 * static_cast<int64_t>(engine.n());
  int64_t stall = 0;
  std::vector<Move> moves;
  auto reached = [&] { return options.target && best.primary <= *options.target; };
  int64_t iter = 0;
  for (; !reached(); ++iter) {
    if (options.max_iterations >= 0 && iter >= options.max_iterations) break;
    if ((iter & 31) == 0 && options.max_iterations < 0 && absl::Now() >= deadline) break;
    engine.Neighbourhood(&moves, rng);
    if (moves.empty()) break;  // no critical block: the plan is optimal
    // Best admissible move.
    int chosen = -1;
    Cost chosen_cost = kInfeasible;
    for (size_t k = 0; k < moves.size(); ++k) {
      const Move& m = moves[k];
      Cost c;
      if (engine.fast()) {
        if (!engine.SurelyAcyclic(m)) continue;
        c.makespan = engine.Estimate(m);
        c.primary = static_cast<double>(c.makespan);
      } else {
        auto undo = engine.Apply(m);
        c = engine.Decode();
        engine.Revert(undo);
      }
      if (c.primary >= kInfeasible.primary) continue;
      const bool tabu_move = engine.Tabu(m, iter, tabu);
      if (tabu_move && !(c < best)) continue;
      if (chosen < 0 || c < chosen_cost ||
          (!(chosen_cost < c) && (rng() & 1))) {  // random tie-break
        chosen = static_cast<int>(k);
        chosen_cost = c;
      }
    }
    if (chosen < 0) chosen = static_cast<int>(rng() % moves.size());
    const Move m = moves[chosen];
    engine.RecordTabu(m, iter + tenure_min + static_cast<int64_t>(rng() % tenure_span), &tabu);
    auto undo = engine.Apply(m);
    current = engine.Decode();
    if (current.primary >= kInfeasible.primary) {
      engine.Revert(undo);
      current = engine.Decode();
      continue;
    }
    if (current < best) {
      best = current;
      best_plan = engine.Save();
      stall = 0;
      result.trace.push_back({absl::ToDoubleSeconds(absl::Now() - t0), best.primary});
    } else if (++stall > stall_limit) {
      // Restart from the best plan, shaken by a few random critical moves.
      engine.Restore(best_plan);
      current = engine.Decode();
      const int kicks = 2 + static_cast<int>(rng() % 4);
      for (int k = 0; k < kicks; ++k) {
        engine.Neighbourhood(&moves, rng);
        if (moves.empty()) break;
        auto u = engine.Apply(moves[rng() % moves.size()]);
        if (engine.Decode().primary >= kInfeasible.primary) {
          engine.Revert(u);
          engine.Decode();
        }
      }
      current = engine.Decode();
      stall = 0;
    }
  }
  result.iterations = iter;
  engine.Restore(best_plan);
  if (options.direction == Direction::kBackward) {
    engine.Decode();
    Schedule forward = engine.Build();
    std::vector<Time> completion(problem.jobs.size(), 0);
    for (int o = 0; o < engine.n(); ++o) {
      completion[problem.ops[o].job] = std::max(completion[problem.ops[o].job], forward.ops[o].end);
    }
    std::vector<Time> due(problem.jobs.size());
    int missed = 0;
    for (size_t j = 0; j < problem.jobs.size(); ++j) {
      // Without a due date, the job works back from the plan's end; a job
      // that cannot make its due date keeps its forward completion.
      const Time d = problem.jobs[j].due == kNoDue ? best.makespan : problem.jobs[j].due;
      if (completion[j] > d) ++missed;
      due[j] = std::max(d, completion[j]);
    }
    result.schedule = engine.BuildBackward(due);
    if (missed > 0) {
      result.note = absl::StrCat(missed, " order(s) cannot meet their due date from their release; "
                                         "they finish as early as the plan allows");
    }
  } else {
    result.schedule = engine.Build();
  }
  result.kpis = Evaluate(problem, result.schedule);
  result.seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  TAKT_RETURN_IF_ERROR(CheckSchedule(problem, result.schedule));
  return result;
}

}  // namespace takt::sched
