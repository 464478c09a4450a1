#include "graph_generator.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/ir/type_inference.h"

namespace loom::testing {

namespace {

/// Shapes M×K: rows and columns of length 1, odd sizes, a long row (8191) and a wide batch.
constexpr std::pair<std::int64_t, std::int64_t> kShapes[] = {{1, 5},    {2, 513}, {7, 33}, {64, 100},
                                                             {3, 8191}, {1, 1},   {5, 1},  {4, 7}};
constexpr std::int64_t kHidden = 3;  ///< the weight is [K, kHidden]

}  // namespace

GeneratedStep GraphGenerator::build(Graph& g) {
  auto [m, k] = kShapes[uniform(0, std::size(kShapes) - 1)];
  rows_ = m;
  cols_ = k;
  GeneratedStep result;
  result.inputs = {g.input("a", {m, k}, dtype_),      g.input("b", {m, k}, dtype_), g.input("c", {1, k}, dtype_),
                   g.input("d", {m, 1}, dtype_),      g.input("e", {k}, dtype_),    g.input("f", {kHidden}, dtype_),
                   g.input("labels", {m}, DType::i32)};
  labels_ = result.inputs.back();
  Array initial_weight = Array::uniform({k, kHidden}, -0.5, 0.5, seed_ * 3 + 1, DType::f32);
  weight_ = g.shared("w", initial_weight.astype(dtype_));
  pool_.assign(result.inputs.begin(), result.inputs.end() - 1);
  std::int64_t steps = uniform(5, 14);
  for (std::int64_t s = 0; s < steps; ++s) {
    pool_.push_back(step());
    if (std::uniform_int_distribution<int>(0, 7)(dropout_rng_) == 0) {
      ops_.push_back("dropout");
      pool_.back() = dropout(pool_.back(), 0.25);
    }
  }
  Tensor last = pool_.back();

  // Returned beside the cost: the last value and up to two earlier intermediates (their kernels get more outputs).
  std::vector<Tensor> intermediates;
  for (int tries = 0; tries < 2 && pool_.size() > 7; ++tries)
    intermediates.push_back(pool_[static_cast<std::size_t>(uniform(6, static_cast<std::int64_t>(pool_.size()) - 2))]);
  Tensor other = intermediates.empty() ? last : intermediates.front();
  Tensor cost =
      sum(last) * (scalar() / static_cast<float>(num_elements(last.shape()))) + mean(square(other)) * scalar();
  if (extra_cost_.defined()) cost = cost + extra_cost_;

  std::vector<Tensor> wrt(result.inputs.begin(), result.inputs.end() - 1);
  wrt.push_back(weight_);
  std::vector<Tensor> gradients = grad(cost, wrt, GradOptions{.disconnected = Disconnected::zero});
  result.outputs = {cost, last};
  result.outputs.insert(result.outputs.end(), intermediates.begin(), intermediates.end());
  result.outputs.insert(result.outputs.end(), gradients.begin(), gradients.end());
  result.output_names = {"cost", "last value"};
  for (std::size_t i = 0; i < intermediates.size(); ++i)
    result.output_names.push_back(fmt::format("intermediate {}", i + 1));
  for (const Tensor& t : wrt) result.output_names.push_back("d cost/d " + t.name());

  // A training update of the weight (it reads its old value elementwise: computed in place) and a state that
  // accumulates the last value.
  Array initial_state = Array::uniform(last.shape(), -1.0, 1.0, seed_ * 3 + 2, DType::f32);
  Tensor state = g.shared("s", initial_state.astype(dtype_));
  result.updates = {{weight_, weight_ - 0.05f * gradients.back()}, {state, state * 0.5f + last}};
  result.shared = {{weight_, initial_weight.astype(dtype_)}, {state, initial_state.astype(dtype_)},
                   {g.random_step(), Array::scalar(0.0)}};  // each run draws the same dropout masks
  result.summary = fmt::format("{}x{}, {} steps: {}", m, k, steps, fmt::join(ops_, ", "));
  return result;
}

std::vector<Array> GraphGenerator::arguments(const GeneratedStep& step, std::uint64_t seed, DType dtype) {
  std::vector<Array> args;
  for (const Tensor& t : step.inputs) {
    std::uint64_t stream = seed * 16 + args.size();
    if (t.dtype() == DType::i32) {
      Array u = Array::uniform(t.shape(), 0.0, 1.0, stream, DType::f64);
      Array labels(DType::i32, t.shape());
      std::int64_t classes = step.inputs.front().shape().back();
      for (std::int64_t i = 0; i < labels.size(); ++i)
        labels.set(i, std::floor(u.get(i) * static_cast<double>(classes)));
      args.push_back(labels);
    } else {
      args.push_back(Array::uniform(t.shape(), -2.0, 2.0, stream, DType::f32).astype(dtype));
    }
  }
  return args;
}

Tensor GraphGenerator::step() {
  Tensor x = any(), y = partner(x);
  float s = scalar();
  auto note = [&](const char* op) { ops_.push_back(op); };
  switch (uniform(0, 14)) {
    case 0:
      note("add");
      return x + y;
    case 1:
      note("sub");
      return x - y * s;
    case 2:
      note("mul");
      return x * tanh(y);
    case 3:
      note("div");
      return x / (1.0f + square(y));
    case 4:
      note("maximum");
      return maximum(x, y * s) - minimum(x, s);
    case 5:
      note("where");
      return where(x > y, x, y * s);
    case 6: {
      static const char* const kNames[] = {"tanh", "sigmoid", "swish", "softplus",   "exp",  "log1p",
                                           "sqrt", "elu",     "selu",  "leaky_relu", "relu", "abs"};
      std::int64_t which = uniform(0, std::size(kNames) - 1);
      note(kNames[which]);
      switch (which) {
        case 0:
          return tanh(x);
        case 1:
          return sigmoid(x);
        case 2:
          return swish(x);
        case 3:
          return softplus(x);
        case 4:
          return exp(tanh(x));
        case 5:
          return log1p(softplus(x));
        case 6:
          return sqrt(1.0f + square(x));
        case 7:
          return elu(x, 0.7);
        case 8:
          return selu(x);
        case 9:
          return leaky_relu(x, 0.2);
        case 10:
          return relu(x) + x * s;
        default:
          return abs(x) * s;
      }
    }
    case 7:
    case 8:
      return reduction(x);
    case 9:
    case 10:
      return row_op(x);
    case 11:
      return layout(x);
    case 12:
      return product(x);
    case 13:
      return window(x);
    default: {
      if (x.shape() != Shape{rows_, cols_}) {
        note("square");
        return square(x) * s;
      }
      note("softmax_cross_entropy");
      Tensor rows = softmax_cross_entropy_rows(x, labels_);
      Tensor loss = mean(rows) * s;
      extra_cost_ = extra_cost_.defined() ? Tensor(extra_cost_ + loss) : loss;
      return x + reshape(rows, {rows_, 1}) * 0.1f;
    }
  }
}

/// An M×K value seen as one M×K image (or M images of 1×K): a convolution with the 3-tap filter f (across rows or
/// columns, dilated or not), or a max or average pool, each "same"-padded with stride 1 so the result is M×K again.
Tensor GraphGenerator::window(const Tensor& x) {
  if (x.shape() != Shape{rows_, cols_}) {
    ops_.push_back("tanh");
    return tanh(x);
  }
  const Tensor& f = pool_[5];  // the input f [3]
  Shape image = uniform(0, 1) == 1 ? Shape{1, 1, rows_, cols_} : Shape{rows_, 1, 1, cols_};
  Tensor nchw = reshape(x, image), y;
  switch (uniform(0, 3)) {
    case 0: {
      bool across_rows = uniform(0, 1) == 1;
      std::int64_t dilation = uniform(1, 2);
      ops_.push_back(fmt::format("conv2d({}, dilation {})", across_rows ? "3x1" : "1x3", dilation));
      y = conv2d(nchw, reshape(f, across_rows ? Shape{1, 1, 3, 1} : Shape{1, 1, 1, 3}), 1, "same", dilation);
      break;
    }
    case 1: {
      Tensor bias = reshape(slice(f, {0}, {1}), {1});
      ops_.push_back("conv2d(1x3, bias)");
      y = relu(conv2d(nchw, reshape(f, {1, 1, 1, 3}), bias, 1, "same")) + nchw * 0.5f;
      break;
    }
    case 2:
      ops_.push_back("max_pool2d(2x3)");
      y = max_pool2d(nchw, {2, 3}, 1, "same");
      break;
    default:
      ops_.push_back("avg_pool2d(3x2)");
      y = avg_pool2d(nchw, {3, 2}, 1, "same");
      break;
  }
  return reshape(y, {rows_, cols_});
}

/// A reduction over one axis or all, kept or not, returned as it is or broadcast back into x.
Tensor GraphGenerator::reduction(const Tensor& x) {
  if (x.rank() == 0) {
    ops_.push_back("abs");
    return abs(x);
  }
  std::int64_t pick = uniform(0, x.rank());
  Axes axes = pick == x.rank() ? Axes{} : Axes{pick};
  bool keep = uniform(0, 1) == 1;
  static const char* const kNames[] = {"sum", "mean", "max", "min", "logsumexp"};
  std::int64_t which = uniform(0, 4);
  ops_.push_back(fmt::format("{}(axes={}{})", kNames[which], pick == x.rank() ? "all" : std::to_string(pick),
                             keep ? ", keep" : ""));
  Tensor r;
  switch (which) {
    case 0:
      r = sum(x, axes, keep) * 0.1f;
      break;
    case 1:
      r = mean(x, axes, keep);
      break;
    case 2:
      r = max(x, axes, keep);
      break;
    case 3:
      r = min(x, axes, keep);
      break;
    default:
      r = logsumexp(x, axes, keep);
      break;
  }
  // A reduction feeding an elementwise consumer of its operand's shape (the per-row epilogue / broadcast back).
  if (keep && uniform(0, 1) == 1) return x - r * scalar();
  return r;
}

/// softmax or log_softmax along any axis (an axis of length 1 included), times a partner.
Tensor GraphGenerator::row_op(const Tensor& x) {
  if (x.rank() == 0) {
    ops_.push_back("sigmoid");
    return sigmoid(x);
  }
  std::int64_t axis = uniform(0, x.rank() - 1);
  bool log = uniform(0, 2) == 0;
  ops_.push_back(fmt::format("{}(axis={})", log ? "log_softmax" : "softmax", axis));
  Tensor r = log ? log_softmax(x, axis) : softmax(x, axis);
  return uniform(0, 1) ? Tensor(r * partner(r)) : r;
}

/// A layout op brought back to x's shape, so its result mixes with the rest.
Tensor GraphGenerator::layout(const Tensor& x) {
  float s = scalar();
  if (x.rank() != 2) {
    if (x.rank() == 1 && uniform(0, 1)) {
      std::int64_t n = x.shape()[0];
      ops_.push_back("concat+slice");
      return slice(concat({x, x * s}), {n / 2}, {n / 2 + n});
    }
    if (ir::broadcast_shapes(x.shape(), {rows_, cols_}) != Shape{rows_, cols_}) {
      ops_.push_back("tanh");
      return tanh(x);
    }
    ops_.push_back("broadcast_to");
    return broadcast_to(x, {rows_, cols_}) * s + pool_.front();
  }
  std::int64_t m = x.shape()[0], k = x.shape()[1];
  switch (uniform(0, 4)) {
    case 0:
      ops_.push_back("transpose");
      return transpose(transpose(x) * s);
    case 1:
      ops_.push_back("reshape");
      return reshape(reshape(x, {-1}) + s, x.shape());
    case 2:
      ops_.push_back("concat+slice");
      return slice(concat({x, x * s}, 1), {0, k / 2}, {m, k / 2 + k});
    case 3:
      if (k < 2) break;
      ops_.push_back("slice+pad");
      return pad(slice(x, {0, 1}, {m, k}), {0, 1}, {0, 0}) + x * s;
    default:
      break;
  }
  ops_.push_back("strided slice+pad");
  std::int64_t kept = (k + 1) / 2;  // every other column, spread back out with zeros between
  return pad(slice(x, {0, 0}, {m, k}, {1, 2}), {0, 0}, {0, k - (2 * kept - 1)}, {0, 1}) * s + x;
}

/// x·W then back through Wᵀ (two matmuls and their gradients), or a matmul with a bias and a relu (oneDNN's
/// epilogue) mixed into x.
Tensor GraphGenerator::product(const Tensor& x) {
  if (x.shape() != Shape{rows_, cols_}) {
    ops_.push_back("tanh");
    return tanh(x);
  }
  Tensor bias = pool_[5];  // the input f: [kHidden]
  if (uniform(0, 1)) {
    ops_.push_back("matmul+bias+relu");
    Tensor h = relu(matmul(x, weight_) + bias);
    return x + matmul(h, transpose(weight_)) * 0.2f;
  }
  ops_.push_back("matmul");
  Tensor h = tanh(matmul(x, weight_));
  return x * scalar() + matmul(h, transpose(weight_));
}

Tensor GraphGenerator::partner(const Tensor& x) {
  std::vector<Tensor> fits;
  for (const Tensor& t : pool_)
    if (t.dtype() == x.dtype() && ir::broadcast_shapes(x.shape(), t.shape())) fits.push_back(t);
  return fits[static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(fits.size()) - 1))];
}

Tensor GraphGenerator::any() {
  return pool_[static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(pool_.size()) - 1))];
}

}  // namespace loom::testing
