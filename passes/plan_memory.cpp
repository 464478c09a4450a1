/// plan-memory: a buffer for every value (see ir/memory_plan.h for what a plan means and how it is checked).
///
/// 1. Outputs and updates that are parameters, constants or repeated outputs become `copy` steps, so every
///    output has a buffer of its own and every update reads a value computed in this call.
/// 2. Outputs are computed straight into the caller's arrays.
/// 3. An update is computed straight into its state's buffer when every other reader of the old value runs
///    before it (the schedule pass arranges that), it reads the old value only elementwise at the index it
///    writes, and no step after it can raise (Theano's semantics: every update sees old values, and a failing
///    call changes nothing).
/// 4. Everything else lives in one arena. Values form groups: an elementwise step's result joins the group of
///    an operand that dies at that step (in place). Groups are placed first-fit in several orders (largest first,
///    earliest first, longest-lived first) and the smallest arena wins.

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/ir/kernel_shape.h"
#include "loom/ir/memory_plan.h"
#include "loom/passes/passes.h"

namespace loom::passes {

namespace {

using ir::Buffer;
using ir::NodeId;
using ir::Value;

bool is_param_or_constant(const ir::Graph& g, Value v) {
  ir::OpCategory c = g.node(v).info().category;
  return c == ir::OpCategory::Param || c == ir::OpCategory::Constant;
}

/// Step 1: `copy` nodes where an output or update would otherwise share a buffer it must not share.
void insert_copies(ir::Graph& g) {
  auto copy_of = [&](Value v) {
    SourceLoc loc = g.node(v).loc;
    return Value{g.add_node(ir::OpKind::copy, {v}, {}, loc), 0};
  };
  std::set<Value> returned;
  for (Value& out : g.outputs)
    if (is_param_or_constant(g, out) || !returned.insert(out).second) out = copy_of(out);
  for (auto& [target, value] : g.updates)
    if (is_param_or_constant(g, value)) value = copy_of(value);
}

/// Arena values that share bytes: a value and the in-place results that overwrite it, alive from the first's
/// step to the last reader of any.
struct Group {
  std::int64_t size = 0;
  std::size_t start = 0, end = 0;
  std::int64_t offset = 0;
};

/// First-fit: each group in `order` goes to the lowest offset that no group already placed and alive at the same
/// time occupies. Returns the arena size.
///
/// The groups placed so far are kept in offset order, so each placement is one scan (no sort per group): a deep
/// graph keeps thousands of values alive from its forward to its backward kernels.
std::int64_t place_first_fit(std::vector<Group>& groups, const std::vector<std::size_t>& order) {
  std::vector<std::size_t> placed;  // by offset
  std::int64_t arena = 0;
  for (std::size_t idx : order) {
    Group& group = groups[idx];
    std::int64_t offset = 0;
    for (std::size_t other : placed) {
      const Group& c = groups[other];
      if (c.start > group.end || group.start > c.end) continue;  // not alive at the same time
      if (offset + group.size <= c.offset) break;
      offset = std::max(offset, c.offset + c.size);
    }
    group.offset = offset;
    arena = std::max(arena, offset + group.size);
    auto by_offset = [&](std::size_t a, std::size_t b) { return groups[a].offset < groups[b].offset; };
    placed.insert(std::upper_bound(placed.begin(), placed.end(), idx, by_offset), idx);
  }
  return arena;
}

class Planner {
 public:
  Planner(ir::Graph& g, const PassContext& ctx) : g_(g), ctx_(ctx), steps_(ir::program_steps(g)) {
    for (std::size_t i = 0; i < steps_.size(); ++i) position_[steps_[i]] = i;
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      for (Value v : g.node(steps_[i]).operands) {
        last_read_[v] = std::max(last_read_[v], i);
        if (g.node(v).op == ir::OpKind::state) state_readers_[v.node].push_back(i);
      }
      if (ir::may_raise(g, steps_[i])) last_may_raise_ = i;
    }
  }

  void plan() {
    for (std::size_t k = 0; k < g_.outputs.size(); ++k) fixed_[g_.outputs[k]] = {Buffer::Kind::output, static_cast<std::uint32_t>(k)};
    for (std::size_t k = 0; k < g_.updates.size(); ++k) {
      auto [target, value] = g_.updates[k];
      auto slot = static_cast<std::uint32_t>(std::find(g_.state.begin(), g_.state.end(), target) - g_.state.begin());
      if (fixed_.count(value) || !update_in_place(target, value)) {
        last_read_[value] = steps_.size();  // read by the copy after the last step
        continue;
      }
      fixed_[value] = {Buffer::Kind::state, slot};
    }
    form_groups();
    place();
    annotate();
  }

 private:
  bool update_in_place(NodeId target, Value value) const {
    if (!ctx_.memory_reuse || !ctx_.state_in_place || !position_.count(value.node)) return false;
    std::size_t writer = position_.at(value.node);
    if (last_may_raise_ && *last_may_raise_ > writer) return false;
    auto readers = state_readers_.find(target);
    if (readers != state_readers_.end())
      for (std::size_t i : readers->second)
        if (i > writer) return false;
    const ir::Node& n = g_.node(value);
    for (std::size_t k = 0; k < n.operands.size(); ++k)
      if (n.operands[k].node == target && !ir::may_overwrite(g_, value.node, value.index, k)) return false;
    return true;
  }

  void form_groups() {
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      const ir::Node& n = g_.node(steps_[i]);
      std::set<std::size_t> taken;  // groups an earlier result of this step already reuses
      for (std::uint32_t r = 0; r < n.results.size(); ++r) {
        Value v{steps_[i], r};
        if (fixed_.count(v)) continue;
        std::size_t end = last_read_.count(v) ? last_read_.at(v) : i;
        std::optional<std::size_t> reused = ctx_.memory_reuse ? dying_operand_group(i, r, taken) : std::nullopt;
        if (reused) {
          taken.insert(*reused);
          groups_[*reused].end = std::max(groups_[*reused].end, end);
          group_of_[v] = *reused;
        } else {
          group_of_[v] = groups_.size();
          groups_.push_back({ir::arena_size(n.results[r]), i, end});
        }
      }
    }
  }

  /// The group of an operand of step i that dies there and that result r may overwrite element for element.
  std::optional<std::size_t> dying_operand_group(std::size_t i, std::uint32_t r, const std::set<std::size_t>& taken) const {
    const ir::Node& n = g_.node(steps_[i]);
    for (std::size_t k = 0; k < n.operands.size(); ++k) {
      auto found = group_of_.find(n.operands[k]);
      if (found == group_of_.end() || taken.count(found->second)) continue;
      const Group& group = groups_[found->second];
      if (group.end != i || group.size != ir::arena_size(n.results[r])) continue;
      bool elementwise = true;
      for (std::size_t j = 0; j < n.operands.size(); ++j)
        if (n.operands[j] == n.operands[k]) elementwise = elementwise && ir::may_overwrite(g_, steps_[i], r, j);
      if (elementwise) return found->second;
    }
    return std::nullopt;
  }

  void place() {
    // Every offset plus size is at most the sum of all sizes; bounding the sum keeps the arithmetic below in 64
    // bits (each value is at most kMaxValueBytes, but many of them are not).
    std::int64_t total = 0;
    for (const Group& group : groups_) {
      std::optional<std::int64_t> sum = checked_add(total, group.size);
      if (!sum || *sum > kMaxValueBytes)
        throw Error(fmt::format("plan-memory: the intermediates of @{} need more than 2^60 bytes in all", g_.name()));
      total = *sum;
    }
    std::vector<std::size_t> order(groups_.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    if (!ctx_.memory_reuse) {  // every value after the previous one
      std::int64_t offset = 0;
      for (Group& group : groups_) {
        group.offset = offset;
        offset += group.size;
      }
      return;
    }
    using Key = std::function<bool(const Group&, const Group&)>;
    const Key keys[] = {
        [](const Group& a, const Group& b) { return a.size > b.size; },
        [](const Group& a, const Group& b) { return a.start < b.start; },
        [](const Group& a, const Group& b) { return a.end - a.start > b.end - b.start; },
    };
    std::int64_t best = -1;
    std::vector<std::int64_t> best_offsets;
    for (const Key& key : keys) {
      std::vector<std::size_t> sorted = order;
      std::stable_sort(sorted.begin(), sorted.end(), [&](std::size_t a, std::size_t b) { return key(groups_[a], groups_[b]); });
      std::int64_t arena = place_first_fit(groups_, sorted);
      if (best < 0 || arena < best) {
        best = arena;
        best_offsets.clear();
        for (const Group& group : groups_) best_offsets.push_back(group.offset);
      }
    }
    for (std::size_t k = 0; k < groups_.size(); ++k) groups_[k].offset = best_offsets[k];
  }

  void annotate() {
    for (NodeId id = 0; id < g_.num_nodes(); ++id) g_.node(id).buffers.clear();
    for (std::size_t k = 0; k < g_.inputs.size(); ++k)
      g_.node(g_.inputs[k]).buffers = {{Buffer::Kind::input, static_cast<std::uint32_t>(k)}};
    for (std::size_t k = 0; k < g_.state.size(); ++k)
      g_.node(g_.state[k]).buffers = {{Buffer::Kind::state, static_cast<std::uint32_t>(k)}};
    std::vector<bool> needed = ir::needed_nodes(g_);
    for (NodeId id = 0; id < g_.num_nodes(); ++id)
      if (needed[id] && g_.node(id).op == ir::OpKind::constant) g_.node(id).buffers = {{Buffer::Kind::constant}};
    for (NodeId id : steps_) {
      ir::Node& n = g_.node(id);
      for (std::uint32_t r = 0; r < n.results.size(); ++r) {
        Value v{id, r};
        if (auto fixed = fixed_.find(v); fixed != fixed_.end()) {
          n.buffers.push_back(fixed->second);
        } else {
          const Group& group = groups_[group_of_.at(v)];
          n.buffers.push_back({Buffer::Kind::arena, 0, group.offset, group.offset + group.size});
        }
      }
    }
  }

  ir::Graph& g_;
  const PassContext& ctx_;
  std::vector<NodeId> steps_;
  std::map<NodeId, std::size_t> position_;
  std::map<Value, std::size_t> last_read_;
  std::map<NodeId, std::vector<std::size_t>> state_readers_;
  std::optional<std::size_t> last_may_raise_;
  std::map<Value, Buffer> fixed_;
  std::vector<Group> groups_;
  std::map<Value, std::size_t> group_of_;
};

}  // namespace

std::string bytes_text(std::int64_t bytes) {
  if (bytes < (1 << 10)) return fmt::format("{} B", bytes);
  if (bytes < (1 << 20)) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / (1 << 10));
  return fmt::format("{:.2f} MiB", static_cast<double>(bytes) / (1 << 20));
}

namespace {

/// Whether a value was computed by the gradient (a kernel's result: the body op that produces it).
bool is_gradient(const ir::Graph& g, Value v) {
  const ir::Node& n = g.node(v);
  return n.body ? n.body->node(n.body->outputs[v.index]).from_autodiff : n.from_autodiff;
}

}  // namespace

bool PlanMemory::run(ir::Graph& g, PassContext& ctx) {
  insert_copies(g);
  Planner(g, ctx).plan();
  ctx.notes.push_back(format_memory_stats(g, memory_stats(g)));
  return true;
}

MemoryStats memory_stats(const ir::Graph& g) {
  MemoryStats stats;
  stats.arena = ir::arena_bytes(g);
  std::vector<NodeId> steps = ir::program_steps(g);
  std::map<Value, std::size_t> defined, last_read;
  std::map<Value, std::vector<NodeId>> readers;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const ir::Node& n = g.node(steps[i]);
    for (Value v : n.operands) {
      last_read[v] = i;
      readers[v].push_back(steps[i]);
    }
    for (std::uint32_t r = 0; r < n.results.size(); ++r) {
      Value v{steps[i], r};
      defined[v] = i;
      const Buffer& b = n.buffers.at(r);
      if (b.kind == Buffer::Kind::arena) stats.no_reuse += ir::arena_size(n.results[r]);
      if (b.kind == Buffer::Kind::state) ++stats.in_place_updates;
      for (Value operand : n.operands)
        if (b.kind == Buffer::Kind::arena && g.node(operand).buffers.at(operand.index) == b) ++stats.in_place_results;
    }
  }
  for (const auto& [target, value] : g.updates)
    if (g.node(value).buffers.at(value.index).kind == Buffer::Kind::arena) last_read[value] = steps.size();
  for (NodeId id : g.state) stats.state += num_elements(g.node(id).results[0].shape) * static_cast<std::int64_t>(size_of(g.node(id).results[0].dtype));
  stats.updates = static_cast<std::int64_t>(g.updates.size());

  // Live arena bytes at each step; values sharing a range in place count once: each range is live over the union
  // of its values' lifetimes, added at the union's first step and removed after its last (a sweep, since a deep
  // graph has thousands of values and steps).
  std::map<std::pair<std::int64_t, std::int64_t>, std::vector<std::pair<std::size_t, std::size_t>>> lifetimes;
  for (const auto& [v, def] : defined) {
    const Buffer& b = g.node(v).buffers.at(v.index);
    auto read = last_read.find(v);
    if (b.kind == Buffer::Kind::arena) lifetimes[{b.offset, b.end}].push_back({def, read != last_read.end() ? read->second : def});
  }
  std::vector<std::int64_t> change(steps.size() + 1, 0);
  for (auto& [range, spans] : lifetimes) {
    std::sort(spans.begin(), spans.end());
    std::int64_t bytes = range.second - range.first;
    for (std::size_t k = 0; k < spans.size();) {
      auto [first, last] = spans[k];
      for (++k; k < spans.size() && spans[k].first <= last + 1; ++k) last = std::max(last, spans[k].second);
      change[first] += bytes;
      if (last + 1 < change.size()) change[last + 1] -= bytes;
    }
  }
  std::int64_t live = 0;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    live += change[i];
    if (live > stats.lower_bound) {
      stats.lower_bound = live;
      stats.peak_step = i;
    }
  }
  for (const auto& [v, def] : defined) {
    const Buffer& b = g.node(v).buffers.at(v.index);
    std::size_t end = last_read.count(v) ? last_read.at(v) : def;
    if (b.kind != Buffer::Kind::arena || def > stats.peak_step || stats.peak_step > end) continue;
    std::string role = "workspace";
    if (is_gradient(g, v)) role = "gradient";
    else if (std::any_of(readers[v].begin(), readers[v].end(), [&](NodeId r) { return g.node(r).from_autodiff; }))
      role = "saved for backward";
    auto& [bytes, count] = stats.peak_roles[role];
    bytes += ir::arena_size(g.type(v));
    ++count;
  }
  return stats;
}

std::string format_memory_stats(const ir::Graph& g, const MemoryStats& s) {
  auto ratio = [](std::int64_t a, std::int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0; };
  std::vector<std::string> roles;
  for (const auto& [role, what] : s.peak_roles)
    roles.push_back(fmt::format("{} {} ({} value{})", role, bytes_text(what.first), what.second, what.second == 1 ? "" : "s"));
  return fmt::format(
      "memory plan of @{}: arena {}, liveness lower bound {} (arena {:.2f}x of it), no reuse {} (arena {:.2f}x of it); "
      "{} results in place, {} of {} updates in place\n  live at the peak (step {}): {}; and always, in their own "
      "buffers, parameters and optimizer state {} ({} values)",
      g.name(), bytes_text(s.arena), bytes_text(s.lower_bound), ratio(s.arena, s.lower_bound), bytes_text(s.no_reuse),
      ratio(s.arena, s.no_reuse), s.in_place_results, s.in_place_updates, s.updates, s.peak_step,
      roles.empty() ? "nothing in the arena" : fmt::format("{}", fmt::join(roles, ", ")), bytes_text(s.state),
      g.state.size());
}

}  // namespace loom::passes
