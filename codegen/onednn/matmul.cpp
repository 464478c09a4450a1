#include "loom/codegen/onednn/matmul.h"

#include <vector>

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
  OneDnnMatmul(const ir::Node& node, const TensorType& a, const TensorType& b, const Epilogue& epilogue)
      : engine_(dnnl::engine::kind::cpu, 0), bias_(epilogue.bias) {
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
    dnnl::primitive_attr attr;
    if (epilogue.activation != ir::OpKind::stop_gradient) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.0f, eltwise_algorithm(epilogue.activation), static_cast<float>(epilogue.alpha), 0.0f);
      attr.set_post_ops(ops);
    }
    if (bias_) {
      // A vector along the last dimension, broadcast over the rows (and batches).
      dims bias_dims = batched ? dims{1, 1, n} : dims{1, n};
      dims strides = batched ? dims{n, n, 1} : dims{n, 1};
      bias_md_ = dnnl::memory::desc(bias_dims, dnnl::memory::data_type::f32, strides);
      primitive_ = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md_, b_md_, bias_md_, c_md_), attr, engine_));
    } else {
      primitive_ = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md_, b_md_, c_md_), attr, engine_));
    }
    // Memories are bound once, with no data; each call only points them at its buffers.
    a_mem_ = dnnl::memory(a_md_, engine_, DNNL_MEMORY_NONE);
    b_mem_ = dnnl::memory(b_md_, engine_, DNNL_MEMORY_NONE);
    c_mem_ = dnnl::memory(c_md_, engine_, DNNL_MEMORY_NONE);
    args_ = {{DNNL_ARG_SRC, a_mem_.get()}, {DNNL_ARG_WEIGHTS, b_mem_.get()}, {DNNL_ARG_DST, c_mem_.get()}};
    if (bias_) {
      bias_mem_ = dnnl::memory(bias_md_, engine_, DNNL_MEMORY_NONE);
      args_.push_back({DNNL_ARG_BIAS, bias_mem_.get()});
    }
  }

  /// Through the C API with the argument array built once: the C++ API's execute() builds a map and a vector
  /// per call. (oneDNN's own dnnl_primitive_execute still allocates its internal argument map, 5 small blocks a
  /// call in oneDNN 2.6; that is beyond our reach.)
  void run(const void* a, const void* b, const void* bias, void* out) const override {
    a_mem_.set_data_handle(const_cast<void*>(a));
    b_mem_.set_data_handle(const_cast<void*>(b));
    c_mem_.set_data_handle(out);
    if (bias_) bias_mem_.set_data_handle(const_cast<void*>(bias));
    dnnl::error::wrap_c_api(dnnl_primitive_execute(primitive_.get(), stream_.get(), static_cast<int>(args_.size()), args_.data()),
                            "matmul execution");
    dnnl::error::wrap_c_api(dnnl_stream_wait(stream_.get()), "stream wait");
  }

 private:
  static dnnl::algorithm eltwise_algorithm(ir::OpKind activation) {
    switch (activation) {
      case ir::OpKind::relu:
      case ir::OpKind::leaky_relu: return dnnl::algorithm::eltwise_relu;  // alpha is the negative slope
      case ir::OpKind::tanh: return dnnl::algorithm::eltwise_tanh;
      case ir::OpKind::sigmoid: return dnnl::algorithm::eltwise_logistic;
      case ir::OpKind::elu: return dnnl::algorithm::eltwise_elu;
      default: throw Error(std::string("onednn: no post-op for ") + std::string(ir::op_name(activation)));
    }
  }

  dnnl::engine engine_;
  mutable dnnl::stream stream_{engine_};  ///< created once; calls on one executable are sequential
  bool bias_;
  dnnl::memory::desc a_md_, b_md_, c_md_, bias_md_;
  dnnl::matmul primitive_;
  mutable dnnl::memory a_mem_, b_mem_, c_mem_, bias_mem_;
  std::vector<dnnl_exec_arg_t> args_;
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
