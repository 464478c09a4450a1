#include "loom/frontend/training_ops.h"

namespace loom {

namespace {

Graph& recording_graph(const Tensor& x, std::string_view op, const SourceLoc& loc) {
  auto* g = x.defined() ? dynamic_cast<Graph*>(x.graph()) : nullptr;
  if (!g) raise(loc, "{}: the operand is not a tensor of a loom::Graph", op);
  return *g;
}

}  // namespace

Tensor dropout(const Tensor& x, double rate, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = recording_graph(x, "dropout", loc);
  ir::Attrs attrs{{"rate", rate},
                  {"seed", static_cast<std::int64_t>(g.random_seed())},
                  {"stream", static_cast<std::int64_t>(g.next_random_stream())}};
  ir::NodeId id = g.add_node(ir::OpKind::dropout, {x.value(), g.random_step().value()}, std::move(attrs), loc);
  return Tensor(Expr(&g, {id, 0}));
}

}  // namespace loom
