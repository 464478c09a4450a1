// Which values a kernel body computes where: its reductions, its iteration space, its rows (kernel_shape.h).

#include <algorithm>

#include "loom/codegen/llvm/jit.h"
#include "loom/codegen/llvm/kernel_shape.h"
#include "loom/ir/type_inference.h"

namespace loom::codegen::llvm_backend {

using ir::OpKind;

std::vector<const ir::Node*> reduction_roots(const ir::Graph& body) {
  std::vector<const ir::Node*> roots;
  for (ir::NodeId id : ir::topological_order(body)) {
    const ir::Node& n = body.node(id);
    if (n.info().is_row_op()) roots.push_back(&n);
  }
  for (const ir::Node* r : roots) {
    bool shares = r->info().category == ir::OpCategory::Reduction && roots[0]->info().category == ir::OpCategory::Reduction &&
                  r->op != OpKind::logsumexp && roots[0]->op != OpKind::logsumexp &&
                  ir::reduced_axes(body, *r) == ir::reduced_axes(body, *roots[0]) &&
                  body.type(r->operands[0]).shape == body.type(roots[0]->operands[0]).shape;
    if (r != roots[0] && !shares)
      raise(r->loc, "llvm backend: kernel {} has a {} that cannot share a pass with its {}", body.name(),
            ir::op_name(r->op), ir::op_name(roots[0]->op));
  }
  return roots;
}

const ir::Node* reduction_root(const ir::Graph& body) {
  std::vector<const ir::Node*> roots = reduction_roots(body);
  return roots.empty() ? nullptr : roots[0];
}

std::vector<bool> computed_after_roots(const ir::Graph& body) {
  std::vector<bool> after(body.num_nodes(), false);
  for (ir::NodeId id : ir::topological_order(body)) {
    bool is_root = body.node(id).info().is_row_op();
    for (ir::Value v : body.node(id).operands)
      if (!is_root && (after[v.node] || body.node(v).info().is_row_op())) after[id] = true;
  }
  return after;
}

Shape kernel_space(const ir::Graph& body) {
  if (body.outputs.empty()) throw Error("llvm backend: kernel " + body.name() + " has no outputs");
  const ir::Node* root = reduction_root(body);
  Shape space = root ? body.type(root->operands[0]).shape : body.type(body.outputs[0]).shape;
  std::vector<bool> after = computed_after_roots(body);
  for (ir::Value v : body.outputs) {
    const ir::Node& n = body.node(v);
    bool per_row = root && (after[v.node] || n.info().category == root->info().category ||
                            (root->info().category == ir::OpCategory::Reduction && body.type(v).shape != space));
    bool fits = per_row ? num_elements(body.type(v).shape) == num_elements(root->results[0].shape) : body.type(v).shape == space;
    if (!fits)
      throw Error("llvm backend: the outputs of kernel " + body.name() + " differ in shape (" + to_string(space) +
                  " and " + to_string(body.type(v).shape) + ")");
  }
  return space;
}

std::int64_t kernel_rows(const ir::Graph& body) {
  Shape space = kernel_space(body);
  const ir::Node* root = reduction_root(body);
  if (!root) {
    std::int64_t rows = 1;
    for (std::size_t d = 0; d + 1 < space.size(); ++d) rows *= space[d];
    std::int64_t last = space.empty() ? 1 : space.back();
    return rows * ((last + kLoopBlock - 1) / kLoopBlock);
  }
  if (root->info().category == ir::OpCategory::Reduction) return std::max<std::int64_t>(num_elements(root->results[0].shape), 1);
  std::size_t axis = root->op == OpKind::softmax_cross_entropy ? space.size() - 1 : static_cast<std::size_t>(root->attrs.get_int("axis"));
  return num_elements(space) / std::max<std::int64_t>(space[axis], 1);
}

}  // namespace loom::codegen::llvm_backend
