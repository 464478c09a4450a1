#pragma once
/// Cuts the function that compile() asked for out of a recording graph.

#include "loom/frontend/function.h"

namespace loom::frontend {

struct ExtractedFunction {
  ir::Graph graph;
  /// For each state parameter of `graph`, its node in the recording graph (the key of its SharedStore value).
  std::vector<ir::NodeId> state_sources;
};

/// Copies what the outputs and updates need into a new graph, checking that every input it needs is listed,
/// that inputs are input nodes and that updates target shared variables with values of their type. Each of the
/// `automatic` updates joins the function when the function reads its state and the caller does not update it.
ExtractedFunction extract_function(const Graph& source, const std::vector<Tensor>& inputs,
                                   const std::vector<Tensor>& outputs, const Updates& updates,
                                   const std::vector<Graph::AutomaticUpdate>& automatic, const std::string& name,
                                   const SourceLoc& loc);

/// "'w' f32[2] (shared, created at example.cpp:12)": how errors name a value.
std::string describe(const Expr& x);

}  // namespace loom::frontend
