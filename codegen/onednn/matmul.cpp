#include "loom/codegen/onednn/matmul.h"

#include <oneapi/dnnl/dnnl.hpp>

namespace loom::codegen::onednn {

namespace {

using dims = dnnl::memory::dims;

/// The logical [rows, cols] (or [batch, rows, cols]) view of a stored row-major operand, transposed through its
/// strides. Batch strides are real strides, never 0: oneDNN falls back to its reference kernel for those.
dnnl::memory::desc describe(const Shape& stored, bool transposed, std::int64_t batch, bool batched) {
  std::int64_t rows = stored[stored.size() - 2], cols = stored.back();
  dims shape = transposed ? dims{cols, rows} : dims{rows, cols};
  dims strides = transposed ? dims{1, cols} : dims{cols, 1};
  if (batched) {
    shape.insert(shape.begin(), batch);
    strides.insert(strides.begin(), rows * cols);
  }
  return {shape, dnnl::memory::data_type::f32, strides};
}

class OneDnnMatmul final : public Matmul {
 public:
  OneDnnMatmul(const ir::Node& node, const TensorType& a, const TensorType& b) : engine_(dnnl::engine::kind::cpu, 0) {
    bool ta = node.attrs.get_int("transpose_a") != 0, tb = node.attrs.get_int("transpose_b") != 0;
    bool batched = a.rank() == 3;
    std::int64_t batch = batched ? a.shape[0] : 1;
    Shape b_stored = b.shape;
    if (b.rank() == 1) b_stored = {b.shape[0], 1};  // a vector is a one-column matrix
    a_md_ = describe(a.shape, ta, batch, batched);
    // A 2-D rhs of a batched matmul is broadcast over the batch (batch dimension 1).
    b_md_ = describe(b_stored, tb && b.rank() >= 2, b.rank() == 3 ? batch : 1, batched);
    std::int64_t m = a_md_.dims()[batched ? 1 : 0], n = b_md_.dims()[batched ? 2 : 1];
    c_md_ = batched ? dnnl::memory::desc(dims{batch, m, n}, dnnl::memory::data_type::f32, dims{m * n, n, 1})
                    : dnnl::memory::desc(dims{m, n}, dnnl::memory::data_type::f32, dims{n, 1});
    primitive_ = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md_, b_md_, c_md_), engine_));
  }

  void run(const void* a, const void* b, void* out) const override {
    dnnl::stream stream(engine_);
    dnnl::memory a_mem(a_md_, engine_, const_cast<void*>(a)), b_mem(b_md_, engine_, const_cast<void*>(b)),
        c_mem(c_md_, engine_, out);
    primitive_.execute(stream, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
    stream.wait();
  }

 private:
  dnnl::engine engine_;
  dnnl::memory::desc a_md_, b_md_, c_md_;
  dnnl::matmul primitive_;
};

}  // namespace

std::unique_ptr<Matmul> Matmul::create(const ir::Node& node, const TensorType& a, const TensorType& b) {
  try {
    return std::make_unique<OneDnnMatmul>(node, a, b);
  } catch (const dnnl::error& e) {
    raise(node.loc, "onednn: cannot create a matmul for {} x {}: {}", a.str(), b.str(), e.what());
  }
}

}  // namespace loom::codegen::onednn
