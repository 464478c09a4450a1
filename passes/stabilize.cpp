/// stabilize: replaces numerically fragile patterns with stable ops.
/// Why: log(softmax(x)) and log(sigmoid(x)) underflow to log(0) = -inf for |x| beyond ~88 in f32 (and their
/// gradients divide by that zero); log_softmax, softplus, logsumexp and the fused softmax cross-entropy never do.
/// It runs before autodiff as well, so gradients are derived from the stable forms.

#include "loom/passes/passes.h"

#include "loom/passes/rewrite.h"

namespace loom::passes {

namespace {

using ir::OpKind;
using P = Pattern;
enum Slot { X, L };

/// Sums over the last axis only, without keepdims: the shape a per-row loss has.
bool sums_last_axis(const ir::Node& n) {
  const auto& axes = n.attrs.get_ints("axes");
  return n.attrs.get_int("keepdims") == 0 && axes.size() == 1 && axes[0] == static_cast<std::int64_t>(n.results[0].rank());
}

const std::vector<RewriteRule>& rules() {
  static const std::vector<RewriteRule> kRules = {
      {"log-softmax", P::node(OpKind::log, {P::node(OpKind::softmax, {P::bind(X)})}),
       [](const Match& m) { return log_softmax(m[X], m.graph->node(m.root_node().operands[0]).attrs.get_int("axis")); }},
      // 1 / (1 + exp(z)) is sigmoid(-z): the hand-written logistic of the Theano tutorial.
      {"sigmoid-from-exp",
       P::node(OpKind::div, {P::constant(1.0), P::node(OpKind::add, {P::constant(1.0), P::node(OpKind::exp, {P::bind(X)})})}),
       [](const Match& m) { return m[X].type() == m.root_node().results[0] ? sigmoid(-m[X]) : Expr(); }},
      {"log-sigmoid", P::node(OpKind::log, {P::node(OpKind::sigmoid, {P::bind(X)})}),
       [](const Match& m) { return -softplus(-m[X]); }},
      {"log-one-minus-sigmoid",
       P::node(OpKind::log, {P::node(OpKind::sub, {P::constant(1.0), P::node(OpKind::sigmoid, {P::bind(X)})})}),
       [](const Match& m) { return -softplus(m[X]); }},
      {"log1p", P::node(OpKind::log, {P::node(OpKind::add, {P::constant(1.0), P::bind(X)})}),
       [](const Match& m) { return m[X].type() == m.root_node().results[0] ? log1p(m[X]) : Expr(); }},
      {"logsumexp", P::node(OpKind::log, {P::node(OpKind::sum, {P::node(OpKind::exp, {P::bind(X)})}, 2)}),
       [](const Match& m) {
         const ir::Node& s = m.graph->node(m.root_node().operands[0]);
         return logsumexp(m[X], s.attrs.get_ints("axes"), s.attrs.get_int("keepdims") != 0);
       }},
      // -sum(one_hot(labels) * log_softmax(x), last axis): the cross-entropy of softmax written out by hand.
      {"softmax-cross-entropy",
       P::node(OpKind::neg,
               {P::node(OpKind::sum,
                        {P::node(OpKind::mul, {P::node(OpKind::one_hot, {P::bind(L)}),
                                               P::node(OpKind::log_softmax, {P::bind(X)})})})
                    .only_if(sums_last_axis)}),
       [](const Match& m) {
         Expr logits = m[X];
         const ir::Node* hot = nullptr;
         const ir::Node* product = nullptr;
         for (ir::NodeId id : m.nodes) {
           const ir::Node& n = m.graph->node(id);
           if (n.op == OpKind::one_hot) hot = &n;
           if (n.op == OpKind::mul) product = &n;
           if (n.op == OpKind::log_softmax && n.attrs.get_int("axis") != logits.rank() - 1) return Expr();
         }
         if (hot->attrs.get_int("depth") != logits.shape().back() || product->results[0] != logits.type()) return Expr();
         return softmax_cross_entropy_rows(logits, m[L]);
       }},
  };
  return kRules;
}

}  // namespace

bool Stabilize::run(ir::Graph& g, PassContext& ctx) { return apply_rules(g, rules(), ctx); }

std::vector<std::string_view> Stabilize::rule_names() const { return names_of(rules()); }

}  // namespace loom::passes
