#pragma once
/// Checks that a graph is well formed: operands defined and acyclic, recorded types equal the inferred ones,
/// the signature refers to the right kinds of nodes and updates keep their state's type; a planned graph's
/// buffers pass check_plan (memory_plan.h).

#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "loom/ir/graph.h"

namespace loom::ir {

/// Kernel bodies already verified, each with the kernel shape found to describe it. A body is immutable
/// (Node::body points to const), so a pipeline verifies each once, not after every later pass (on deep graphs,
/// most of the verifier's time). Holding the pointers keeps each body alive, so no other can take its address.
class VerifiedBodies {
 public:
  bool contains(const Node& n) const { return seen_.count({n.body.get(), n.kernel.get()}) > 0; }
  void add(const Node& n) {
    seen_.insert({n.body.get(), n.kernel.get()});
    held_.emplace_back(n.body, n.kernel);
  }

 private:
  std::set<std::pair<const Graph*, const KernelShape*>> seen_;
  std::vector<std::pair<std::shared_ptr<const Graph>, std::shared_ptr<const KernelShape>>> held_;
};

/// Throws Error describing the first problem, with the offending node's source line. `pass` names who ran
/// last, so a failure after a pass blames it. With `verified`, bodies found there are not verified again and
/// those verified are added.
void verify(const Graph& g, std::string_view pass = "", VerifiedBodies* verified = nullptr);

}  // namespace loom::ir
