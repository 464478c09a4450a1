#pragma once
/// What one kernel computes and where: its kind, the space it iterates over, the ops its rows are organized around
/// (its roots), where each result is stored, which values are computed once per row, and which operand a result
/// may overwrite. One decision, made here and nowhere else: fuse asks it whether a group of ops can be one kernel,
/// fuse stores it on the `fused` node it builds (Node::kernel), the parser recomputes it for a kernel it reads,
/// the verifier checks that it still holds, and the LLVM emitter, the executor and the memory planner read it.
///
/// Kinds (each emitted as one loop nest over independent rows, so any split over threads gives the same bits):
///   loop    elementwise and layout ops over one shape; a row is a block of at most kLoopBlock elements of its
///           last axes from `tail` on (so a long vector still splits over threads)
///   reduce  reductions sharing one pass over their operand: one row per result element; values computed from
///           their results (the epilogue) are computed once per row, after the pass
///   row     one softmax, log_softmax or softmax cross-entropy: one row per position of the other axes
///   matmul  an f32 matmul with a bias and an activation that oneDNN applies as post-ops
///   conv    an f32 conv2d with a bias per output channel and an activation, likewise
///
/// Emitted kernels read every operand element a result element needs before they store any result element, and a
/// loop kernel reads the operands marked `read_at_store_index` only at the element it stores; that is what makes
/// may_overwrite safe (ir::check_plan relies on it, and a test in tests/unit/llvm_kernel_test.cpp checks it).

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "loom/ir/graph.h"
#include "loom/ir/index_semantics.h"

namespace loom::ir {

enum class KernelKind : std::uint8_t { loop, reduce, row, matmul, conv };

/// Kernels that oneDNN runs as one primitive with its post-ops (their parts: MatmulParts), not the LLVM emitter.
inline bool is_onednn_kernel(KernelKind kind) { return kind == KernelKind::matmul || kind == KernelKind::conv; }

std::string_view to_string(KernelKind kind);

/// Where a kernel stores a result.
enum class Placement : std::uint8_t {
  element,  ///< at each element of the iteration space, as the pass over it reaches that element
  row,      ///< once per row: a root's result, its epilogue, or another value with one element per row
};

/// Loop kernels split their last dimension into rows of at most this many elements.
inline constexpr std::int64_t kLoopBlock = 8192;

/// Activations oneDNN applies to a matmul or a convolution as a post-op.
bool is_matmul_activation(OpKind op);

/// The parts of a matmul or conv kernel: its product (the matmul or conv2d node) and operands (values of the analyzed
/// graph), and its epilogue.
struct MatmulParts {
  NodeId matmul = kNoNode;  ///< the matmul or the conv2d
  Value a, b;
  std::optional<Value> bias;
  std::optional<OpKind> activation;
  double alpha = 0.0;  ///< leaky_relu's negative slope, elu's alpha
  bool operator==(const MatmulParts&) const = default;
};

struct KernelShape {
  KernelKind kind = KernelKind::loop;
  /// The shape iterated over: the results' shape for a loop kernel, the roots' operand shape otherwise.
  Shape space;
  /// The nodes the rows are organized around: the reductions sharing the pass, or the one row op.
  std::vector<NodeId> roots;
  /// For reduce and row kernels: rows over the kept axes of `space`, each row along the reduced axes (or the row
  /// op's axis).
  RowSplit split;
  /// For loop kernels: the first of the space's last axes that the inner loop visits as one axis, at the index
  /// (0, ..., 0, j) (the last axis alone when no other merges; batch norm's [N, C, H, W] kernels loop over H·W).
  std::size_t tail = 0;
  /// Independent rows: the unit of parallel work.
  std::int64_t rows = 0;
  /// One per result.
  std::vector<Placement> placements;
  /// Nodes computed from a root's result: evaluated once per row, after the row's reductions.
  std::set<NodeId> epilogue;
  /// Operand values (parameters of a body) that the kernel reads only at the element each result is stored to.
  std::set<Value> read_at_store_index;
  /// Whether the kernel can fail while it runs: a softmax cross-entropy checks its labels.
  bool may_raise = false;
  MatmulParts matmul;

  bool operator==(const KernelShape&) const = default;
};

/// Whether nodes `members` of `g` (in topological order, each with one result) can be one kernel whose results are
/// `results` (member values read outside it); their other operands are its parameters. Returns its shape, or why
/// it cannot be one kernel.
std::variant<KernelShape, std::string> analyze_kernel(const Graph& g, std::span<const NodeId> members,
                                                      std::span<const Value> results);

/// The shape of a kernel body (a fused node's nested function). Throws Error naming the op and line when the
/// body is not one kernel.
KernelShape describe_kernel(const Graph& body);

/// Makes `body` the kernel of fused node `n`: sets its body, its shape (describe_kernel) and its `kind` attribute.
void attach_body(Node& n, std::shared_ptr<const Graph> body);

/// Where a kernel of shape `k` can store `n`'s result when n is computed in the pass (not from a root): at each
/// element of the space, once per row, or nowhere (nullopt). Fuse grows kernels with it.
std::optional<Placement> placement_in(const KernelShape& k, const Node& n);

/// Whether step `id` of a graph (a fused node, or an op the backends run as a one-op kernel) may store result
/// `result` over operand `operand`'s buffer: a loop kernel reading that operand only at the element it stores, of
/// the same size. The memory planner computes in place only where this holds.
bool may_overwrite(const Graph& g, NodeId id, std::uint32_t result, std::size_t operand);

/// For a reduce kernel of `body` with shape `shape`: where its reduced axes (shape.split.along) end in a run of the
/// space's last axes that one loop can visit as a single axis, as the emitter loops over them (its index in
/// `along`; along.size() when none). The condition is a loop kernel's for KernelShape::tail, over every value the
/// kernel computes per element; batch norm's N·H·W statistics then loop over H·W in one vectorized loop instead of
/// W at a time.
std::size_t merged_reduced_tail(const Graph& body, const KernelShape& shape);

/// Whether step `id` can raise while the function runs (a softmax cross-entropy checking its labels). No state is
/// written in place before such a step, so a failing call changes nothing.
bool may_raise(const Graph& g, NodeId id);

}  // namespace loom::ir
