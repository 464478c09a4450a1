#pragma once
/// The baseline of the training-step benchmarks: every oneDNN primitive a compiled function runs (its matmuls, with
/// their bias and post-op, its convolutions and pools, each with the reorders it makes when it runs in a blocked
/// layout), created as the JIT creates them and run back to back on preallocated buffers, without anything loom adds
/// around them.

#include <memory>
#include <vector>

#include <loom/loom.h>

#include "loom/codegen/onednn/matmul.h"
#include "loom/codegen/onednn/window.h"
#include "loom/ir/kernel_shape.h"

namespace loom::bench {

class PrimitivesAlone {
 public:
  /// `layout`: the convolutions' (codegen::onednn::WindowPrimitive::Layout); `only_windows` leaves out the matmuls.
  explicit PrimitivesAlone(const ir::Graph& f, codegen::onednn::WindowPrimitive::Layout layout = {}, bool only_windows = false) {
    for (ir::NodeId id = 0; id < f.num_nodes(); ++id) {
      const ir::Node& n = f.node(id);
      if (n.dead) continue;
      bool conv_kernel = n.op == ir::OpKind::fused && n.kernel->kind == ir::KernelKind::conv;
      if (only_windows && n.info().category != ir::OpCategory::Window && !conv_kernel) continue;
      if (n.op == ir::OpKind::matmul) {
        const TensorType &a = f.type(n.operands[0]), &b = f.type(n.operands[1]);
        add_matmul(codegen::onednn::Matmul::create(n, a, b), a, b, nullptr, n.results[0]);
      } else if (n.op == ir::OpKind::fused && n.kernel->kind == ir::KernelKind::conv) {
        const ir::MatmulParts& parts = n.kernel->matmul;
        const ir::Graph& body = *n.body;
        const ir::Node& conv = body.node(parts.matmul);
        ir::Window2d window = ir::window_of(conv, body.type(parts.a).shape, &body.type(parts.b).shape);
        codegen::onednn::Epilogue epilogue{.bias = true, .activation = parts.activation.value_or(ir::OpKind::stop_gradient),
                                           .alpha = parts.alpha};
        Call c{.window = codegen::onednn::WindowPrimitive::create(conv, window, epilogue, layout),
               .a = Array::uniform(body.type(parts.a).shape, -1, 1, 1), .b = Array::uniform(body.type(parts.b).shape, -1, 1, 2),
               .bias = Array::uniform(body.type(*parts.bias).shape, -1, 1, 3), .out = Array(DType::f32, n.results[0].shape)};
        c.workspace = Array(DType::f32, {static_cast<std::int64_t>(c.window->workspace_bytes() / sizeof(float)) + 1});
        calls_.push_back(std::move(c));
      } else if (n.op == ir::OpKind::fused && n.kernel->kind == ir::KernelKind::matmul) {
        const ir::MatmulParts& parts = n.kernel->matmul;
        const ir::Graph& body = *n.body;
        codegen::onednn::Epilogue epilogue{.bias = parts.bias.has_value(),
                                           .activation = parts.activation.value_or(ir::OpKind::stop_gradient), .alpha = parts.alpha};
        const TensorType &a = body.type(parts.a), &b = body.type(parts.b);
        add_matmul(codegen::onednn::Matmul::create(body.node(parts.matmul), a, b, epilogue), a, b,
                   parts.bias ? &body.type(*parts.bias) : nullptr, n.results[0]);
      } else if (n.info().category == ir::OpCategory::Window && n.results[0].dtype == DType::f32) {
        const Shape* second = n.operands.size() > 1 ? &f.type(n.operands[1]).shape : nullptr;
        ir::Window2d window = ir::window_of(n, f.type(n.operands[0]).shape, second);
        if (!codegen::onednn::WindowPrimitive::supports(n.op, window)) continue;
        Call c{.window = codegen::onednn::WindowPrimitive::create(n, window, {}, layout), .a = Array::uniform(f.type(n.operands[0]).shape, -1, 1, 1)};
        if (second) c.b = Array::uniform(*second, -1, 1, 2);
        c.out = Array(DType::f32, n.results[0].shape);
        c.workspace = Array(DType::f32, {static_cast<std::int64_t>(c.window->workspace_bytes() / sizeof(float)) + 1});
        calls_.push_back(std::move(c));
      }
    }
  }

  void run() {
    for (Call& c : calls_) {
      if (c.matmul) c.matmul->run(c.a.raw(), c.b.raw(), c.bias.size() ? c.bias.raw() : nullptr, c.out.raw());
      else c.window->run(c.a.raw(), c.b.size() ? c.b.raw() : nullptr, c.bias.size() ? c.bias.raw() : nullptr, c.out.raw(),
                         c.workspace.raw());
    }
  }
  std::size_t size() const { return calls_.size(); }

 private:
  struct Call {
    std::unique_ptr<codegen::onednn::Matmul> matmul;
    std::unique_ptr<codegen::onednn::WindowPrimitive> window;
    Array a, b, bias, out, workspace;
  };

  void add_matmul(std::unique_ptr<codegen::onednn::Matmul> primitive, const TensorType& a, const TensorType& b,
                  const TensorType* bias, const TensorType& out) {
    calls_.push_back({.matmul = std::move(primitive), .a = Array::uniform(a.shape, -1, 1, 1), .b = Array::uniform(b.shape, -1, 1, 2),
                      .bias = bias ? Array::uniform(bias->shape, -1, 1, 3) : Array(), .out = Array(DType::f32, out.shape)});
  }

  std::vector<Call> calls_;
};

}  // namespace loom::bench
