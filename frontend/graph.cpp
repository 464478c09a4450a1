#include "loom/frontend/graph.h"

#include <cstring>

#include "loom/ir/parser.h"
#include "loom/ir/printer.h"

namespace loom {

namespace {

/// The graph that owns a shared variable, or an Error naming what `t` is instead.
Graph& owner_of_shared(const Tensor& t, std::string_view what, const SourceLoc& loc) {
  if (!t.defined()) raise(loc, "{}: the Tensor is empty", what);
  auto* g = dynamic_cast<Graph*>(t.graph());
  if (!g || t.node().op != ir::OpKind::state)
    raise(loc, "{}: {} {} is not a shared variable (its op is {})", what, t.name().empty() ? "tensor" : "'" + t.name() + "'",
          t.type().str(), ir::op_name(t.node().op));
  return *g;
}

}  // namespace

Array Tensor::get_value(SrcLoc loc) const {
  Graph& g = owner_of_shared(*this, "get_value", SourceLoc::from(loc));
  std::lock_guard<std::mutex> lock(g.store()->locks.at(value_.node));
  return g.store()->values.at(value_.node).copy();
}

void Tensor::set_value(const Array& value, SrcLoc loc) {
  SourceLoc at = SourceLoc::from(loc);
  Graph& g = owner_of_shared(*this, "set_value", at);
  if (value.type() != type())
    raise(at, "set_value: shared variable '{}' is {}, the new value is {}", name(), type().str(), value.type().str());
  // Into the existing buffer: compiled functions hold on to it (their steps read and update it in place).
  std::lock_guard<std::mutex> lock(g.store()->locks.at(value_.node));
  Array& current = g.store()->values.at(value_.node);
  std::memcpy(current.raw(), value.raw(), value.nbytes());
}

Graph::Graph() : ir::Graph("graph") {}

Tensor Graph::parameter(ir::OpKind op, const std::string& name, TensorType type, const SourceLoc& loc) {
  // Names print in IR text and name checkpoint entries and dump files: they must parse back.
  if (!ir::is_identifier(name))
    raise(loc, "{}: the name '{}' is not letters, digits, '_' and '.'", op_name(op), name);
  for (ir::NodeId id : op == ir::OpKind::input ? inputs : state)
    if (node(id).name == name) raise(loc, "{}: the name '{}' is taken by another {} of this graph", op_name(op), name, op_name(op));
  ir::NodeId id = add_typed_node(op, {}, {}, {std::move(type)}, loc, name);
  (op == ir::OpKind::input ? inputs : state).push_back(id);
  return Tensor(Expr(this, ir::Value{id, 0}));
}

Tensor Graph::input(const std::string& name, Shape shape, DType dtype, SrcLoc loc) {
  for (auto d : shape)
    if (d < 0) raise(SourceLoc::from(loc), "input: '{}' has a negative dimension in {}", name, to_string(shape));
  return parameter(ir::OpKind::input, name, TensorType{dtype, std::move(shape)}, SourceLoc::from(loc));
}

Tensor Graph::shared(const std::string& name, const Array& value, SrcLoc loc) {
  Tensor t = parameter(ir::OpKind::state, name, value.type(), SourceLoc::from(loc));
  store_->values[t.value().node] = value.copy();
  store_->locks[t.value().node];  // the variable's lock, for its whole life
  return t;
}

std::string Graph::str() const { return ir::print(*this); }

std::vector<Tensor> Graph::shared_variables() {
  std::vector<Tensor> out;
  for (ir::NodeId id : state) out.push_back(Tensor(Expr(this, {id, 0})));
  return out;
}

Tensor Graph::random_step() {
  if (!random_step_.defined()) {
    ir::LocationOverride nowhere(*this, SourceLoc{}, ir::LocationOverride::Mode::replace);
    random_step_ = shared("rng.step", Array::scalar(0.0));
    add_automatic_update({random_step_, random_step_ + 1.0, /*training_only=*/true});
  }
  return random_step_;
}

}  // namespace loom
