#include "loom/codegen/onednn/matmul.h"

#include "loom/codegen/onednn/primitives.h"

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
  OneDnnMatmul(const ir::Node& node, const TensorType& a, const TensorType& b, const Epilogue& epilogue)
      : bias_(epilogue.bias) {
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    bool ta = node.attrs.get_int("transpose_a") != 0, tb = node.attrs.get_int("transpose_b") != 0;
    bool batched = a.rank() == 3;
    std::int64_t batch = batched ? a.shape[0] : 1;
    Shape b_stored = b.shape;
    if (b.rank() == 1) b_stored = {b.shape[0], 1};  // a vector is a one-column matrix
    dnnl::memory::desc a_md = describe(a.shape, ta, batch, batched);
    // A 2-D rhs of a batched matmul is broadcast over the batch (batch dimension 1).
    dnnl::memory::desc b_md = describe(b_stored, tb && b.rank() >= 2, b.rank() == 3 ? batch : 1, batched);
    std::int64_t m = a_md.dims()[batched ? 1 : 0], n = b_md.dims()[batched ? 2 : 1];
    dnnl::memory::desc c_md = batched ? dnnl::memory::desc(dims{batch, m, n}, dnnl::memory::data_type::f32, dims{m * n, n, 1})
                                      : dnnl::memory::desc(dims{m, n}, dnnl::memory::data_type::f32, dims{n, 1});
    dnnl::memory::desc bias_md;  // zero: no bias
    // A vector along the last dimension, broadcast over the rows (and batches).
    if (bias_)
      bias_md = dnnl::memory::desc(batched ? dims{1, 1, n} : dims{1, n}, dnnl::memory::data_type::f32,
                                   batched ? dims{n, n, 1} : dims{n, 1});
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, bias_md, c_md), primitive_attributes(epilogue), engine);
    std::vector<std::pair<int, dnnl::memory::desc>> args{{DNNL_ARG_SRC, a_md}, {DNNL_ARG_WEIGHTS, b_md}, {DNNL_ARG_DST, c_md}};
    if (bias_) args.push_back({DNNL_ARG_BIAS, bias_md});
    primitive_ = BoundPrimitive(engine, dnnl::matmul(pd), args, pd.scratchpad_desc());
  }

  void run(const void* a, const void* b, const void* bias, void* out) const override {
    const void* buffers[] = {a, b, out, bias};
    primitive_.run(buffers, "matmul execution");
  }

 private:
  bool bias_;
  BoundPrimitive primitive_;
};

}  // namespace

std::unique_ptr<Matmul> Matmul::create(const ir::Node& node, const TensorType& a, const TensorType& b,
                                       const Epilogue& epilogue) {
  try {
    return std::make_unique<OneDnnMatmul>(node, a, b, epilogue);
  } catch (const dnnl::error& e) {
    raise(node.loc, "onednn: cannot create a matmul for {} x {}: {}", a.str(), b.str(), e.what());
  }
}

}  // namespace loom::codegen::onednn
