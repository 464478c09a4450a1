#pragma once
/// The IR text format (docs/IR.md): one function per graph, one node per line, with its type and source line.

#include <string>

#include "loom/ir/graph.h"

namespace loom::ir {

/// Prints every live node of `g` in topological order.
std::string print(const Graph& g);

/// "1.0", "-0.5", "1e-08", "inf", "nan": floats always look like floats, and print exactly (shortest round trip).
std::string format_float(double value);

/// "{axes = [1], keepdims = 0}", or "" for no attributes. `single_precision` prints floats as f32 values.
std::string format_attrs(const Attrs& attrs, bool single_precision = false);

}  // namespace loom::ir
