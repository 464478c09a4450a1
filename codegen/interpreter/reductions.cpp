#include <cmath>

#include "loom/codegen/interpreter/kernels.h"
#include "loom/ir/index_semantics.h"
#include "loom/ir/reduce_semantics.h"

namespace loom::codegen::interp {

namespace {

/// Visits the elements of each row of `x` split along `axes`: begin_row(row), then element(value, position in
/// the row) for each, in row-major order of the along-axes (the order the emitted kernels use), then
/// end_row(row). Several passes over a row call `pass` again.
struct Rows {
  const Array& x;
  ir::RowSplit split;
  std::vector<std::int64_t> strides, at;

  Rows(const Array& x, std::span<const std::int64_t> axes)
      : x(x), split(ir::split_rows(x.shape(), axes)), strides(row_major_strides(x.shape())), at(x.shape().size(), 0) {}

  void start(std::int64_t row) {
    ir::PlainIndex ix;
    ir::unflatten_into(ix, x.shape(), split.kept, row, at);
  }
  template <class Fn>
  void pass(Fn&& fn) {
    ir::PlainIndex ix;
    for (std::int64_t k = 0; k < split.length; ++k) {
      ir::unflatten_into(ix, x.shape(), split.along, k, at);
      fn(x.get(offset_of(at, strides)), k, offset_of(at, strides));
    }
  }
};

std::vector<std::int64_t> reduced_axes(const ir::Node& n, const Array& x) {
  std::vector<std::int64_t> axes = n.attrs.get_ints("axes");
  if (axes.empty())
    for (std::int64_t d = 0; d < x.rank(); ++d) axes.push_back(d);
  return axes;
}

}  // namespace

Array reduction(const ir::Node& n, Operands in, Arithmetic& arithmetic) {
  const TensorType& type = n.results[0];
  Array out(type.dtype, type.shape);
  Rows rows(*in[0], reduced_axes(n, *in[0]));
  // Accumulate in double, as the emitted kernels do: the oracle should be at least as accurate as what it checks.
  with_math<double>(arithmetic, type.dtype, [&](auto& s) {
    for (std::int64_t row = 0; row < rows.split.rows; ++row) {
      rows.start(row);
      auto acc = ir::reduction_start(n.op, s);
      rows.pass([&](double x, std::int64_t k, std::int64_t) {
        acc = ir::reduction_step(n.op, s, acc, x, static_cast<double>(k));
      });
      double result = ir::reduction_result(n.op, s, acc);
      if (n.op == ir::OpKind::logsumexp) {
        double total = 0.0;
        rows.pass([&](double x, std::int64_t, std::int64_t) {
          total = s.accumulate(total, ir::logsumexp_term(s, x, acc.value));
        });
        result = ir::logsumexp_result(s, acc.value, total);
      }
      out.set(row, result);
    }
  });
  return out;
}

Array normalize(const ir::Node& n, Operands in, Arithmetic& arithmetic) {
  const Array& x = *in[0];
  Array out(x.dtype(), x.shape());
  std::int64_t axis = n.attrs.get_int("axis");
  Rows rows(x, std::span<const std::int64_t>(&axis, 1));
  with_math<double>(arithmetic, x.dtype(), [&](auto& s) {
    for (std::int64_t row = 0; row < rows.split.rows; ++row) {
      rows.start(row);
      double peak = -INFINITY, total = 0.0;
      rows.pass([&](double v, std::int64_t, std::int64_t) { peak = ir::peak_step(s, peak, v); });
      rows.pass(
          [&](double v, std::int64_t, std::int64_t) { total = s.accumulate(total, ir::softmax_exp(s, v, peak)); });
      if (n.op == ir::OpKind::softmax) {
        double scale = ir::softmax_scale(s, total);
        rows.pass([&](double v, std::int64_t, std::int64_t at) {
          out.set(at, ir::softmax_value(s, ir::softmax_exp(s, v, peak), scale));
        });
      } else {
        double log_total = s.log(total);
        rows.pass([&](double v, std::int64_t, std::int64_t at) {
          out.set(at, ir::log_softmax_value(s, v, peak, log_total));
        });
      }
    }
  });
  return out;
}

Array softmax_cross_entropy(const ir::Node& n, Operands in, Arithmetic& arithmetic) {
  const Array &logits = *in[0], &labels = *in[1];
  Array out(n.results[0].dtype, n.results[0].shape);
  std::int64_t axis = logits.rank() - 1, classes = logits.shape().back();
  Rows rows(logits, std::span<const std::int64_t>(&axis, 1));
  with_math<double>(arithmetic, logits.dtype(), [&](auto& s) {
    for (std::int64_t row = 0; row < rows.split.rows; ++row) {
      auto label = static_cast<std::int64_t>(labels.get(row));
      if (label < 0 || label >= classes)
        raise(n.loc, "softmax_cross_entropy: label {} at row {} is outside [0, {})", label, row, classes);
      rows.start(row);
      double peak = -INFINITY, total = 0.0, picked = 0.0;
      rows.pass([&](double v, std::int64_t k, std::int64_t) {
        peak = ir::peak_step(s, peak, v);
        if (k == label) picked = v;
      });
      rows.pass(
          [&](double v, std::int64_t, std::int64_t) { total = s.accumulate(total, ir::softmax_exp(s, v, peak)); });
      out.set(row, ir::cross_entropy_value(s, peak, total, picked));
    }
  });
  return out;
}

}  // namespace loom::codegen::interp
