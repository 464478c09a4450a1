#pragma once
/// What oneDNN applies to a matmul's or a convolution's result inside the same primitive: a bias and an activation
/// (a post-op). Free of oneDNN types, like every header here but primitives.h.

#include "loom/ir/op_table.h"

namespace loom::codegen::onednn {

struct Epilogue {
  bool bias = false;
  ir::OpKind activation = ir::OpKind::stop_gradient;  ///< stop_gradient: none; else relu, leaky_relu, tanh, sigmoid, elu
  double alpha = 0.0;                                  ///< leaky_relu's slope, elu's alpha
};

}  // namespace loom::codegen::onednn
