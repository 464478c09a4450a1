#include "loom/ir/memory_plan.h"

#include <algorithm>
#include <iterator>
#include <map>

#include <fmt/format.h>

#include "loom/ir/kernel_shape.h"

namespace loom::ir {

std::int64_t arena_size(const TensorType& t) {
  auto bytes = num_elements(t.shape) * static_cast<std::int64_t>(size_of(t.dtype));
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

std::vector<NodeId> program_steps(const Graph& g) {
  std::vector<bool> needed = needed_nodes(g);
  std::vector<NodeId> steps;
  for (NodeId id : topological_order(g)) {
    OpCategory category = g.node(id).info().category;
    if (needed[id] && category != OpCategory::Param && category != OpCategory::Constant) steps.push_back(id);
  }
  return steps;
}

std::int64_t arena_bytes(const Graph& g) {
  std::int64_t bytes = 0;
  for (NodeId id = 0; id < g.num_nodes(); ++id)
    for (const Buffer& b : g.node(id).buffers)
      if (!g.node(id).dead && b.kind == Buffer::Kind::arena) bytes = std::max(bytes, b.end);
  return bytes;
}

namespace {

bool overlap(const Buffer& a, const Buffer& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == Buffer::Kind::arena) return a.offset < b.end && b.offset < a.end;
  return (a.kind == Buffer::Kind::state || a.kind == Buffer::Kind::output) && a.index == b.index;
}

/// The contents of every buffer during one call, as the values they hold.
class Simulation {
 public:
  explicit Simulation(const Graph& g)
      : g_(g), state_(g.state.size()), outputs_(g.outputs.size()) {
    for (std::size_t k = 0; k < g.state.size(); ++k) state_[k] = Value{g.state[k], 0};
  }

  void run() {
    check_parameters();
    for (NodeId id : program_steps(g_)) step(id);
    finish();
  }

 private:
  [[noreturn]] void fail(const Node& n, const std::string& why) const {
    raise(n.loc, "memory plan of @{}: {} {}", g_.name(), op_name(n.op), why);
  }
  const Buffer& buffer(Value v) const {
    const Node& n = g_.node(v);
    if (n.buffers.size() != n.results.size()) fail(n, fmt::format("has {} buffers for {} results", n.buffers.size(), n.results.size()));
    return n.buffers[v.index];
  }
  std::string describe(Value v) const {
    const Node& n = g_.node(v);
    return fmt::format("{}#{} ({}{})", op_name(n.op), v.index, n.name.empty() ? "" : "'" + n.name + "' ",
                       n.loc.known() ? n.loc.str() : "node " + std::to_string(v.node));
  }

  bool holds(Value v) const {
    const Buffer& b = buffer(v);
    switch (b.kind) {
      case Buffer::Kind::input:
      case Buffer::Kind::constant: return true;
      case Buffer::Kind::state: return state_.at(b.index) == v;
      case Buffer::Kind::output: return outputs_.at(b.index) == v;
      case Buffer::Kind::arena: {
        if (b.offset == b.end) return true;  // a value of no bytes (an empty tensor) cannot be overwritten
        auto found = arena_.find(b.offset);
        return found != arena_.end() && found->second.end == b.end && found->second.value == v;
      }
    }
    return false;
  }

  void write(const Node& n, Value v) {
    const Buffer& b = buffer(v);
    const TensorType& t = g_.type(v);
    switch (b.kind) {
      case Buffer::Kind::input:
      case Buffer::Kind::constant: fail(n, "writes a result into an input or constant buffer");
      case Buffer::Kind::state:
        if (b.index >= g_.state.size()) fail(n, fmt::format("writes state {} of {}", b.index, g_.state.size()));
        if (std::find(g_.updates.begin(), g_.updates.end(), std::pair{g_.state[b.index], v}) == g_.updates.end())
          fail(n, fmt::format("writes into state {} a value that is not its update", b.index));
        state_[b.index] = v;
        state_written_ = true;
        return;
      case Buffer::Kind::output:
        if (b.index >= g_.outputs.size() || g_.outputs[b.index] != v)
          fail(n, fmt::format("writes into output {} a value that is not that output", b.index));
        outputs_[b.index] = v;
        return;
      case Buffer::Kind::arena: {
        auto bytes = num_elements(t.shape) * static_cast<std::int64_t>(size_of(t.dtype));
        if (b.offset % kArenaAlignment != 0 || b.end - b.offset < bytes)
          fail(n, fmt::format("result {} ({}) does not fit arena[{}:{}] at an aligned offset", v.index, t.str(), b.offset, b.end));
        if (b.offset == b.end) return;
        // Residents never overlap, so those this write overlaps are adjacent in offset order.
        auto first = arena_.lower_bound(b.offset);
        if (first != arena_.begin() && std::prev(first)->second.end > b.offset) --first;
        auto last = first;
        while (last != arena_.end() && last->first < b.end) ++last;
        arena_.erase(first, last);
        arena_.emplace(b.offset, Resident{b.end, v});
        return;
      }
    }
  }

  void check_parameters() const {
    auto expect = [&](NodeId id, Buffer::Kind kind, std::size_t index) {
      const Buffer& b = buffer(Value{id, 0});
      if (b.kind != kind || b.index != index) fail(g_.node(id), "parameter has the wrong buffer");
    };
    for (std::size_t k = 0; k < g_.inputs.size(); ++k) expect(g_.inputs[k], Buffer::Kind::input, k);
    for (std::size_t k = 0; k < g_.state.size(); ++k) expect(g_.state[k], Buffer::Kind::state, k);
  }

  void step(NodeId id) {
    const Node& n = g_.node(id);
    for (Value v : n.operands) {
      if (g_.node(v).info().category == OpCategory::Constant && buffer(v).kind != Buffer::Kind::constant)
        fail(g_.node(v), "is a constant outside the constant buffers");
      if (!holds(v)) fail(n, fmt::format("reads {} after its buffer was overwritten", describe(v)));
    }
    if (may_raise(g_, id) && state_written_) fail(n, "may raise after state was written in place");
    for (std::uint32_t r = 0; r < n.results.size(); ++r) {
      const Buffer& out = buffer(Value{id, r});
      for (std::size_t k = 0; k < n.operands.size(); ++k) {
        const Buffer& in = buffer(n.operands[k]);
        bool exact_reuse = in == out && may_overwrite(g_, id, r, k);
        if (overlap(in, out) && !exact_reuse)
          fail(n, fmt::format("writes result {} over operand {} ({}) that it still reads", r, k, describe(n.operands[k])));
      }
      for (std::uint32_t other = 0; other < r; ++other)
        if (overlap(buffer(Value{id, other}), out)) fail(n, fmt::format("writes results {} and {} into one buffer", other, r));
    }
    for (std::uint32_t r = 0; r < n.results.size(); ++r) write(n, Value{id, r});
  }

  void finish() {
    for (const auto& [target, value] : g_.updates) {
      auto slot = static_cast<std::size_t>(std::find(g_.state.begin(), g_.state.end(), target) - g_.state.begin());
      if (state_[slot] == value) continue;
      if (!holds(value)) fail(g_.node(value), fmt::format("update of state {} reads {} after it was overwritten", slot, describe(value)));
      state_[slot] = value;
    }
    for (std::size_t k = 0; k < g_.outputs.size(); ++k)
      if (outputs_[k] != g_.outputs[k]) fail(g_.node(g_.outputs[k]), fmt::format("output {} is not in its output buffer", k));
  }

  struct Resident {
    std::int64_t end;
    Value value;
  };
  const Graph& g_;
  /// The values in the arena, by offset (a map: a deep graph keeps thousands there at once).
  std::map<std::int64_t, Resident> arena_;
  std::vector<Value> state_, outputs_;
  bool state_written_ = false;
};

}  // namespace

void check_plan(const Graph& g) { Simulation(g).run(); }

}  // namespace loom::ir
