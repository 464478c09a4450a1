#pragma once
/// Ops that behave differently in training and in inference (CompileOptions::training), recorded as one op that the
/// `modes` pass lowers for the Function being compiled.

#include "loom/frontend/graph.h"

namespace loom {

/// Inverted dropout (Srivastava et al. 2014): in training each element is kept with probability 1 − rate and
/// scaled by 1/(1 − rate), else zeroed; in inference the identity. The keep decisions come from Philox keyed by
/// (the graph's random seed, its step counter, this op, the element), so they are the same for any thread count,
/// fusion or schedule, the backward pass recomputes them instead of storing a mask, and each call of a Function
/// draws new ones (Graph::random_step). `rate` is in [0, 1).
Tensor dropout(const Tensor& x, double rate, SrcLoc loc = SrcLoc::current());

}  // namespace loom
