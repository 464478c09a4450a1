#pragma once
/// f32 matmul through oneDNN. The primitive is created once, at compile time, for the node's shapes and
/// transpose flags: transposed operands are described by strides, so a transpose is never materialized.
/// This header is free of oneDNN types so that only codegen/onednn/*.cpp pays for its headers.

#include <memory>

#include "loom/codegen/onednn/epilogue.h"
#include "loom/ir/graph.h"

namespace loom::codegen::onednn {

class Matmul {
 public:
  /// For a `matmul` node whose operands have types `a` and `b` (f32).
  static std::unique_ptr<Matmul> create(const ir::Node& node, const TensorType& a, const TensorType& b,
                                        const Epilogue& epilogue = {});
  virtual ~Matmul() = default;
  /// out = activation(op(a) · op(b) + bias), on row-major buffers of the node's operand and result shapes; `bias`
  /// is ignored without an epilogue bias.
  virtual void run(const void* a, const void* b, const void* bias, void* out) const = 0;
};

}  // namespace loom::codegen::onednn
