/// schedule: one topological order of the steps, chosen for a low peak of live memory.
///
/// Every heuristic is the same list scheduler (take a ready step, repeat) with a different choice among the ready
/// steps; each order is scored by the peak of bytes live at once and the lowest wins, ties going to the earlier
/// heuristic (as Glow's allocator tries several orders and keeps the best). The winning order becomes the id order
/// of the graph, which is the order the printer shows and the backends run.

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/ir/kernel_shape.h"
#include "loom/ir/memory_plan.h"
#include "loom/passes/passes.h"

namespace loom::passes {

namespace {

using ir::NodeId;

class Scheduler {
 public:
  explicit Scheduler(const ir::Graph& g) : g_(g), users_(g.num_nodes()), deps_(g.num_nodes()) {
    for (NodeId id : ir::program_steps(g)) {
      steps_.push_back(id);
      is_step_[id] = true;
    }
    for (NodeId id : steps_)
      for (ir::Value v : g.node(id).operands)
        if (is_step_.count(v.node) && std::find(deps_[id].begin(), deps_[id].end(), v.node) == deps_[id].end()) {
          deps_[id].push_back(v.node);
          users_[v.node].push_back(id);
        }
    for (ir::Value v : g.outputs) kept_to_end_.insert(v);
    for (const auto& [target, value] : g.updates) kept_to_end_.insert(value);
    order_old_state_readers();
  }

  struct Candidate {
    std::string_view name;
    std::vector<NodeId> order;
    std::int64_t peak;
  };

  std::vector<Candidate> candidates() {
    std::vector<Candidate> out;
    // The order the graph was built in.
    out.push_back(run("program-order", [](NodeId a, NodeId b, const State&) { return a < b; }));
    // The step that adds the fewest bytes (its results minus the operands it is the last reader of).
    out.push_back(run("memory-greedy", [this](NodeId a, NodeId b, const State& s) {
      double da = growth(a, s), db = growth(b, s);
      return da != db ? da < db : a < b;
    }));
    // Depth first: the step whose operands were computed most recently, finishing one chain before the next.
    out.push_back(run("depth-first", [this](NodeId a, NodeId b, const State& s) {
      std::int64_t ra = latest_operand(a, s), rb = latest_operand(b, s);
      return ra != rb ? ra > rb : a < b;
    }));
    return out;
  }

 private:
  struct State {
    std::vector<std::int64_t> position;   ///< per node: its place in the order so far, -1 if not placed
    std::vector<int> readers_left;        ///< per node: users not placed yet
  };
  using Better = std::function<bool(NodeId, NodeId, const State&)>;

  /// Bytes are counted in double: a graph of many values near the 2^60-byte limit of one value would overflow 64
  /// bits here (plan-memory then refuses it); below 2^53 bytes the counts are exact.
  double bytes(NodeId id) const {
    double total = 0;
    for (const TensorType& t : g_.node(id).results) total += static_cast<double>(ir::arena_size(t));
    return total;
  }

  double growth(NodeId id, const State& s) const {
    double delta = bytes(id);
    for (NodeId p : deps_[id])
      if (s.readers_left[p] == 1 && !kept(p)) delta -= bytes(p);
    return delta;
  }

  std::int64_t latest_operand(NodeId id, const State& s) const {
    std::int64_t latest = -1;
    for (NodeId p : deps_[id]) latest = std::max(latest, s.position[p]);
    return latest;
  }

  bool kept(NodeId id) const {
    for (std::uint32_t k = 0; k < g_.node(id).results.size(); ++k)
      if (kept_to_end_.count({id, k})) return true;
    return false;
  }

  /// A step that reads a state's old value goes before the step computing that state's update (and so does a
  /// step that may raise), unless it depends on the update, in which case the update cannot be in place anyway.
  void order_old_state_readers() {
    for (const auto& [target, value] : g_.updates) {
      NodeId writer = value.node;
      if (!is_step_.count(writer)) continue;
      std::vector<bool> after_writer = descendants(writer);
      std::vector<NodeId> before;
      bool possible = true;
      for (NodeId id : steps_) {
        if (id == writer) continue;
        bool reads_old = std::any_of(g_.node(id).operands.begin(), g_.node(id).operands.end(),
                                     [&](ir::Value v) { return v.node == target; });
        if (reads_old && after_writer[id]) possible = false;
        if ((reads_old || ir::may_raise(g_, id)) && !after_writer[id]) before.push_back(id);
      }
      if (!possible) continue;
      for (NodeId id : before)
        if (std::find(deps_[writer].begin(), deps_[writer].end(), id) == deps_[writer].end()) {
          deps_[writer].push_back(id);
          users_[id].push_back(writer);
        }
    }
  }

  std::vector<bool> descendants(NodeId from) const {
    std::vector<bool> seen(g_.num_nodes(), false);
    std::vector<NodeId> stack{from};
    while (!stack.empty()) {
      NodeId id = stack.back();
      stack.pop_back();
      for (NodeId u : users_[id])
        if (!seen[u]) {
          seen[u] = true;
          stack.push_back(u);
        }
    }
    return seen;
  }

  Candidate run(std::string_view name, const Better& better) const {
    State s{std::vector<std::int64_t>(g_.num_nodes(), -1), std::vector<int>(g_.num_nodes(), 0)};
    std::vector<std::size_t> waiting(g_.num_nodes(), 0);
    std::vector<NodeId> ready;
    for (NodeId id : steps_) {
      waiting[id] = deps_[id].size();
      s.readers_left[id] = static_cast<int>(users_[id].size());
      if (waiting[id] == 0) ready.push_back(id);
    }
    std::vector<NodeId> order;
    double live = 0, peak = 0;
    while (!ready.empty()) {
      auto pick = std::min_element(ready.begin(), ready.end(), [&](NodeId a, NodeId b) { return better(a, b, s); });
      NodeId id = *pick;
      ready.erase(pick);
      s.position[id] = static_cast<std::int64_t>(order.size());
      order.push_back(id);
      live += bytes(id);
      peak = std::max(peak, live);
      for (NodeId p : deps_[id])
        if (--s.readers_left[p] == 0 && !kept(p)) live -= bytes(p);
      if (users_[id].empty() && !kept(id)) live -= bytes(id);
      for (NodeId u : users_[id])
        if (--waiting[u] == 0) ready.push_back(u);
    }
    return {name, std::move(order), static_cast<std::int64_t>(std::min(peak, 0x1p62))};
  }

  const ir::Graph& g_;
  std::vector<NodeId> steps_;
  std::map<NodeId, bool> is_step_;
  std::vector<std::vector<NodeId>> users_, deps_;
  std::set<ir::Value> kept_to_end_;
};

}  // namespace

bool Schedule::run(ir::Graph& g, PassContext& ctx) {
  Scheduler scheduler(g);
  std::vector<Scheduler::Candidate> candidates = scheduler.candidates();
  const Scheduler::Candidate* best = &candidates[0];
  std::vector<std::string> scores;
  for (const auto& c : candidates) {
    if (c.peak < best->peak) best = &c;
    scores.push_back(fmt::format("{} {}", c.name, bytes_text(c.peak)));
  }
  ctx.notes.push_back(fmt::format("schedule of @{}: peak live {} with {} (tried {})", g.name(), bytes_text(best->peak), best->name,
                                  fmt::join(scores, ", ")));
  // Parameters and constants first (they are not steps), then the chosen steps, then anything unneeded.
  std::vector<NodeId> order;
  std::vector<bool> placed(g.num_nodes(), false);
  auto place = [&](NodeId id) {
    if (!placed[id]) order.push_back(id);
    placed[id] = true;
  };
  for (NodeId id : g.inputs) place(id);
  for (NodeId id : g.state) place(id);
  for (NodeId id = 0; id < g.num_nodes(); ++id)
    if (!g.node(id).dead && g.node(id).info().category == ir::OpCategory::Constant) place(id);
  for (NodeId id : best->order) place(id);
  for (NodeId id : ir::topological_order(g)) place(id);
  bool changed = false;
  for (std::size_t k = 0; k < order.size() && !changed; ++k) changed = order[k] != static_cast<NodeId>(k);
  changed = changed || order.size() != g.num_nodes();
  ir::renumber(g, order);
  return changed;
}

}  // namespace loom::passes
