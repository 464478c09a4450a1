#pragma once
/// The graph-building language: a handle to one IR value and the ops over it. Users write models with it
/// (through loom::Tensor, which adds shared-variable access) and the autodiff rules write gradients with it, so
/// gradients are ordinary IR that prints, optimizes and can be differentiated again.
///
/// Every builder takes the caller's std::source_location as a defaulted last argument (operators take it through
/// Operand's converting constructor), so each node records the user's line.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <source_location>
#include <string>
#include <vector>

#include "loom/ir/graph.h"

namespace loom {

using SrcLoc = std::source_location;

/// A value in a graph under construction.
class Expr {
 public:
  Expr() = default;
  Expr(ir::Graph* graph, ir::Value value) : graph_(graph), value_(value) {}

  bool defined() const { return graph_ != nullptr; }
  ir::Graph* graph() const { return graph_; }
  ir::Value value() const { return value_; }
  const ir::Node& node() const;
  const TensorType& type() const;
  DType dtype() const { return type().dtype; }
  const Shape& shape() const { return type().shape; }
  std::int64_t rank() const { return type().rank(); }
  const std::string& name() const { return node().name; }
  /// Names the node, for dumps and error messages.
  Expr& named(std::string name);
  /// Keeps the node out of every fused kernel (recorded as the attribute fuse = "never").
  Expr& no_fuse();

 protected:
  ir::Graph* graph_ = nullptr;
  ir::Value value_;
};

/// One side of a binary op: a graph value or a plain number that takes the other side's dtype.
struct Operand {
  Operand(const Expr& e, SrcLoc loc = SrcLoc::current()) : expr(e), loc(SourceLoc::from(loc)) {}
  Operand(double number, SrcLoc loc = SrcLoc::current()) : scalar(number), loc(SourceLoc::from(loc)) {}

  std::optional<Expr> expr;
  double scalar = 0.0;
  SourceLoc loc;
};

/// Reduction axes: one axis, a list, or (empty) all axes. Negative axes count from the end.
struct Axes {
  Axes() = default;
  Axes(int axis) : list{axis} {}
  Axes(std::int64_t axis) : list{axis} {}
  Axes(std::initializer_list<std::int64_t> axes) : list(axes) {}
  Axes(std::vector<std::int64_t> axes) : list(std::move(axes)) {}
  std::vector<std::int64_t> list;
};

// Arithmetic and comparisons, with NumPy broadcasting.
Expr operator+(const Operand& a, const Operand& b);
Expr operator-(const Operand& a, const Operand& b);
Expr operator*(const Operand& a, const Operand& b);
Expr operator/(const Operand& a, const Operand& b);
Expr operator-(const Operand& x);
Expr operator<(const Operand& a, const Operand& b);
Expr operator<=(const Operand& a, const Operand& b);
Expr operator>(const Operand& a, const Operand& b);
Expr operator>=(const Operand& a, const Operand& b);
Expr eq(const Operand& a, const Operand& b);
Expr ne(const Operand& a, const Operand& b);
Expr pow(const Operand& a, const Operand& b);
Expr maximum(const Operand& a, const Operand& b);
Expr minimum(const Operand& a, const Operand& b);
Expr where(const Expr& condition, const Operand& a, const Operand& b, SrcLoc loc = SrcLoc::current());
Expr cast(const Expr& x, DType to, SrcLoc loc = SrcLoc::current());

// Elementwise math and activations.
Expr neg(const Expr& x, SrcLoc loc = SrcLoc::current());
Expr exp(const Expr& x, SrcLoc loc = SrcLoc::current());
Expr log(const Expr& x, SrcLoc loc = SrcLoc::current());
Expr log1p(const Expr& x, SrcLoc loc = SrcLoc::current());
Expr sqrt(const Expr& x, SrcLoc loc = SrcLoc::current());
Expr rsqrt(const Expr& x, SrcLoc loc = SrcLoc::current());
Expr abs(const Expr& x, SrcLoc loc = SrcLoc::current());
Expr sign(const Expr& x, SrcLoc loc = SrcLoc::current());
Expr square(const Expr& x, SrcLoc loc = SrcLoc::current());
Expr sigmoid(const Expr& x, SrcLoc loc = SrcLoc::current());
Expr tanh(const Expr& x, SrcLoc loc = SrcLoc::current());
Expr relu(const Expr& x, SrcLoc loc = SrcLoc::current());
Expr leaky_relu(const Expr& x, double alpha = 0.01, SrcLoc loc = SrcLoc::current());
Expr elu(const Expr& x, double alpha = 1.0, SrcLoc loc = SrcLoc::current());
Expr selu(const Expr& x, SrcLoc loc = SrcLoc::current());
Expr softplus(const Expr& x, SrcLoc loc = SrcLoc::current());
Expr swish(const Expr& x, SrcLoc loc = SrcLoc::current());
/// Identity forward; blocks gradients.
Expr stop_gradient(const Expr& x, SrcLoc loc = SrcLoc::current());
/// The same value in a buffer of its own (what plan-memory inserts where an output or update is a parameter).
Expr copy(const Expr& x, SrcLoc loc = SrcLoc::current());

/// 2-D × 2-D, 2-D × 1-D, batched 3-D × 3-D and 3-D × 2-D.
Expr matmul(const Expr& a, const Expr& b, SrcLoc loc = SrcLoc::current());

// Sliding windows over NCHW tensors (ir/window_semantics.h; conv weights are OIHW).
/// Two sizes, [height, width]; one number means both.
struct Size2 {
  Size2(std::int64_t both) : height(both), width(both) {}
  Size2(std::int64_t height, std::int64_t width) : height(height), width(width) {}
  std::int64_t height, width;
};
/// How far a window may reach past the input: "valid" (not at all), "same" (⌈input/stride⌉ outputs, the padding
/// split evenly with the odd one after, as TensorFlow), or explicit zero padding: one number for every side,
/// {height, width} for both sides of each, or {top, bottom, left, right}.
struct Padding {
  Padding(const char* mode) : mode(mode) {}
  Padding(int all) : sides{all, all, all, all} {}
  Padding(std::initializer_list<std::int64_t> sides) : sides(sides) {}
  std::string mode;                 ///< "valid", "same", or empty for explicit `sides`
  std::vector<std::int64_t> sides;
};
Expr conv2d(const Expr& x, const Expr& w, Size2 stride = 1, Padding padding = "valid", Size2 dilation = 1,
            SrcLoc loc = SrcLoc::current());
/// conv2d plus a bias [O], one per output channel.
Expr conv2d(const Expr& x, const Expr& w, const Expr& bias, Size2 stride = 1, Padding padding = "valid",
            Size2 dilation = 1, SrcLoc loc = SrcLoc::current());
/// The largest element of each window (stride defaults to the kernel: windows that tile the input).
Expr max_pool2d(const Expr& x, Size2 kernel, std::optional<Size2> stride = std::nullopt, Padding padding = "valid",
                SrcLoc loc = SrcLoc::current());
/// The mean of each window's elements inside the input (padding is not counted).
Expr avg_pool2d(const Expr& x, Size2 kernel, std::optional<Size2> stride = std::nullopt, Padding padding = "valid",
                SrcLoc loc = SrcLoc::current());
/// [N, d1, d2, ...] -> [N, d1·d2·...].
Expr flatten(const Expr& x, SrcLoc loc = SrcLoc::current());

// Layout.
/// Empty perm reverses the axes.
Expr transpose(const Expr& x, std::vector<std::int64_t> perm = {}, SrcLoc loc = SrcLoc::current());
/// One entry may be -1 and is inferred.
Expr reshape(const Expr& x, Shape shape, SrcLoc loc = SrcLoc::current());
Expr broadcast_to(const Expr& x, Shape shape, SrcLoc loc = SrcLoc::current());
Expr concat(const std::vector<Expr>& parts, std::int64_t axis = 0, SrcLoc loc = SrcLoc::current());
/// NumPy-style x[begin:end:step] per leading axis; negative indices count from the end; missing axes are whole.
Expr slice(const Expr& x, std::vector<std::int64_t> begin, std::vector<std::int64_t> end,
           std::vector<std::int64_t> step = {}, SrcLoc loc = SrcLoc::current());
/// Zeros before (low), after (high) and between (interior) the elements of each axis, as XLA's Pad.
Expr pad(const Expr& x, std::vector<std::int64_t> low, std::vector<std::int64_t> high,
         std::vector<std::int64_t> interior = {}, SrcLoc loc = SrcLoc::current());
Expr one_hot(const Expr& indices, std::int64_t depth, DType dtype = DType::f32, SrcLoc loc = SrcLoc::current());

// Reductions.
Expr sum(const Expr& x, Axes axes = {}, bool keepdims = false, SrcLoc loc = SrcLoc::current());
Expr mean(const Expr& x, Axes axes = {}, bool keepdims = false, SrcLoc loc = SrcLoc::current());
Expr max(const Expr& x, Axes axes = {}, bool keepdims = false, SrcLoc loc = SrcLoc::current());
Expr min(const Expr& x, Axes axes = {}, bool keepdims = false, SrcLoc loc = SrcLoc::current());
Expr logsumexp(const Expr& x, Axes axes = {}, bool keepdims = false, SrcLoc loc = SrcLoc::current());
/// i32 indices of the largest element along `axis` (the first one on ties).
Expr argmax(const Expr& x, std::int64_t axis = -1, bool keepdims = false, SrcLoc loc = SrcLoc::current());
Expr softmax(const Expr& x, std::int64_t axis = -1, SrcLoc loc = SrcLoc::current());
Expr log_softmax(const Expr& x, std::int64_t axis = -1, SrcLoc loc = SrcLoc::current());

// Losses (means over the batch).
Expr mse(const Expr& prediction, const Expr& target, SrcLoc loc = SrcLoc::current());
/// `p` are probabilities; the stabilize pass rewrites log(sigmoid) forms into stable ones.
Expr binary_cross_entropy(const Expr& p, const Expr& target, SrcLoc loc = SrcLoc::current());
/// Mean over rows of -log softmax(logits)[label]; labels are integer class indices along the last axis.
Expr softmax_cross_entropy(const Expr& logits, const Expr& labels, SrcLoc loc = SrcLoc::current());
/// The per-row loss that softmax_cross_entropy averages (the op itself).
Expr softmax_cross_entropy_rows(const Expr& logits, const Expr& labels, SrcLoc loc = SrcLoc::current());
/// With label smoothing ε (Szegedy et al. 2016): the cross-entropy against (1 − ε)·one_hot(label) + ε/K over K
/// classes, i.e. (1 − ε)·(−log p_label) + ε·(logsumexp(x) − mean(x)), averaged over rows.
Expr softmax_cross_entropy(const Expr& logits, const Expr& labels, double label_smoothing, SrcLoc loc = SrcLoc::current());
/// The loss of a mixup batch (Zhang et al. 2018): λ·CE(labels_a) + (1 − λ)·CE(labels_b), λ a scalar (an input).
Expr mixup_cross_entropy(const Expr& logits, const Expr& labels_a, const Expr& labels_b, const Expr& lambda,
                         SrcLoc loc = SrcLoc::current());

/// Uniform numbers in (0, 1] of `type`, one per element, from Philox keyed by (seed, the value of the step counter
/// `step`, `stream`, the element's position): ir/random_semantics.h. Random ops (dropout, ...) lower to it.
Expr random_uniform(const Expr& step, TensorType type, std::uint64_t seed, std::uint32_t stream,
                    SrcLoc loc = SrcLoc::current());
/// Standard normal numbers, keyed the same way (Box-Muller on two words of the Philox block).
Expr random_normal(const Expr& step, TensorType type, std::uint64_t seed, std::uint32_t stream,
                   SrcLoc loc = SrcLoc::current());

// Normalization and parametric activations, composed of the ops above.
/// The mean and the (biased) variance of x over `axes`, kept as size-1 dimensions, in one pass: E[x²] − E[x]²,
/// both summed in f64 (x is cast first, so the difference does not cancel in f32), returned in x's dtype.
struct Moments {
  Expr mean, variance;
};
Moments moments(const Expr& x, Axes axes, SrcLoc loc = SrcLoc::current());
/// Layer normalization (Ba et al. 2016) over the last axis: γ·(x − μ)/√(σ² + eps) + β with each row's μ and σ²;
/// γ and β broadcast to x (usually one per feature).
Expr layer_norm(const Expr& x, const Expr& gamma, const Expr& beta, double eps = 1e-5, SrcLoc loc = SrcLoc::current());
/// Parametric ReLU (He et al. 2015): x where x > 0, else α·x; α broadcasts to x (one slope, or one per feature) and
/// is learned like any weight.
Expr prelu(const Expr& x, const Expr& alpha, SrcLoc loc = SrcLoc::current());

/// A tensor of x's type (or dtype and shape) with every element `value`.
Expr full_like(const Expr& x, double value, SrcLoc loc = SrcLoc::current());
Expr constant(ir::Graph& g, double value, TensorType type, SrcLoc loc = SrcLoc::current());

/// What to do when a `wrt` value does not influence the cost (Theano's disconnected_inputs).
enum class Disconnected { raise, zero };

/// Records a `grad` node: one result per `wrt`, expanded later by the autodiff pass. `cost` may be empty when
/// `known` seeds the gradients (Theano's known_grads).
std::vector<Expr> record_grad(const Expr& cost, const std::vector<Expr>& wrt,
                              const std::vector<std::pair<Expr, Expr>>& known, const std::vector<Expr>& constants,
                              Disconnected disconnected, SrcLoc loc = SrcLoc::current());

namespace ir {
/// A window op `op` over `operands` whose stride, padding, dilation and kernel are those of `window` (another window
/// node's attributes; any `op` does not take are dropped) unless `extra` gives them (with input_size): how the
/// autodiff rules state a gradient in the window of the op they differentiate.
Expr window_op(OpKind op, const std::vector<Expr>& operands, const Attrs& window, const Attrs& extra = {},
               SrcLoc loc = SrcLoc::current());
}  // namespace ir

namespace ir {
/// Normalizes a possibly negative axis against `rank`, or throws Error naming `op` and `type`.
std::int64_t normalize_axis(std::int64_t axis, const TensorType& type, std::string_view op, const SourceLoc& loc);
}  // namespace ir

}  // namespace loom
