#include "loom/frontend/optim.h"

#include <fmt/format.h>

#include "loom/frontend/parameters.h"

namespace loom::optim {

Hyper::Hyper(const Tensor& shared) : shared_(shared) {
  if (!shared.defined() || shared.node().op != ir::OpKind::state || !shared.shape().empty() || !is_float(shared.dtype()))
    throw Error(fmt::format("optim: a hyperparameter is a number or a float scalar shared variable, not {}",
                            shared.defined() ? shared.type().str() + " (" + std::string(ir::op_name(shared.node().op)) + ")"
                                             : std::string("an empty Tensor")));
}

Expr Hyper::of(const Expr& like, SrcLoc loc) const {
  if (!shared_.defined()) return constant(*like.graph(), value_, TensorType{like.dtype(), {}}, loc);
  if (shared_.graph() != like.graph())
    raise(SourceLoc::from(loc), "optim: the hyperparameter '{}' belongs to another graph than the parameters", shared_.name());
  return shared_.dtype() == like.dtype() ? Expr(shared_) : cast(shared_, like.dtype(), loc);
}

namespace {

/// One optimizer call: its checked parameters and gradients, the graph its state goes into, the updates it makes.
class Step {
 public:
  Step(std::string_view optimizer, const std::vector<Tensor>& params, const std::vector<Tensor>& grads, SrcLoc where)
      : optimizer_(optimizer), params_(params), grads_(grads), loc_(SourceLoc::from(where)) {
    if (params.size() != grads.size())
      raise(loc_, "optim::{}: {} parameters but {} gradients", optimizer, params.size(), grads.size());
    graph_ = &frontend::parameters_graph(fmt::format("optim::{}", optimizer), params, grads, loc_);
  }

  std::size_t size() const { return params_.size(); }
  const Tensor& param(std::size_t k) const { return params_[k]; }
  const Tensor& grad(std::size_t k) const { return grads_[k]; }
  Graph& graph() { return *graph_; }
  const SourceLoc& loc() const { return loc_; }

  /// A new shared variable "<param>.<suffix>" of the parameter's type, filled with `initial`: optimizer state.
  Tensor slot(std::size_t k, std::string_view suffix, double initial) {
    const Tensor& p = params_[k];
    std::string base = fmt::format("{}.{}", p.name().empty() ? fmt::format("param{}", k) : p.name(), suffix);
    return graph_->shared(frontend::unused_state_name(*graph_, base), Array::full(p.shape(), initial, p.dtype()));
  }

  /// The step counter t, a shared f64 scalar starting at 0: returns t + 1 (this step's number) and updates t.
  Expr step_number() {
    Tensor t = graph_->shared(frontend::unused_state_name(*graph_, optimizer_ + ".step"), Array::scalar(0.0));
    Expr next = t + 1.0;
    updates.push_back({t, next});
    return next;
  }

  void update(const Tensor& target, const Expr& value) { updates.push_back({target, value}); }

  Updates updates;

 private:
  std::string optimizer_;
  const std::vector<Tensor>& params_;
  const std::vector<Tensor>& grads_;
  SourceLoc loc_;
  Graph* graph_ = nullptr;
};

/// Runs `body` for each parameter, with every new node (shared variables too) pointing at the user's line.
template <class Body>
Updates build(std::string_view optimizer, const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
              SrcLoc where, Body body) {
  Step step(optimizer, params, grads, where);
  ir::LocationOverride at_user(step.graph(), step.loc(), ir::LocationOverride::Mode::replace);
  for (std::size_t k = 0; k < step.size(); ++k) body(step, k);
  return std::move(step.updates);
}

}  // namespace

Updates sgd(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const SgdOptions& o, SrcLoc loc) {
  return build("sgd", params, grads, loc, [&](Step& s, std::size_t k) {
    const Tensor &p = s.param(k), &g = s.grad(k);
    s.update(p, p - o.lr.of(p) * g);
  });
}

Updates momentum(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const MomentumOptions& o, SrcLoc loc) {
  return build("momentum", params, grads, loc, [&](Step& s, std::size_t k) {
    const Tensor &p = s.param(k), &g = s.grad(k);
    Tensor v = s.slot(k, "velocity", 0.0);
    Expr v_new = o.momentum.of(p) * v + o.lr.of(p) * g;
    s.update(v, v_new);
    s.update(p, p - v_new);
  });
}

Updates nesterov(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const NesterovOptions& o, SrcLoc loc) {
  return build("nesterov", params, grads, loc, [&](Step& s, std::size_t k) {
    const Tensor &p = s.param(k), &g = s.grad(k);
    Tensor v = s.slot(k, "velocity", 0.0);
    Expr mu = o.momentum.of(p), step = o.lr.of(p) * g;
    Expr v_new = mu * v + step;
    s.update(v, v_new);
    s.update(p, p - (mu * v_new + step));
  });
}

Updates adagrad(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const AdagradOptions& o, SrcLoc loc) {
  return build("adagrad", params, grads, loc, [&](Step& s, std::size_t k) {
    const Tensor &p = s.param(k), &g = s.grad(k);
    Tensor sum = s.slot(k, "sum_squares", o.initial_accumulator);
    Expr sum_new = sum + square(g);
    s.update(sum, sum_new);
    s.update(p, p - o.lr.of(p) * g / (sqrt(sum_new) + o.epsilon));
  });
}

Updates adadelta(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const AdadeltaOptions& o, SrcLoc loc) {
  return build("adadelta", params, grads, loc, [&](Step& s, std::size_t k) {
    const Tensor &p = s.param(k), &g = s.grad(k);
    Tensor square_avg = s.slot(k, "square_avg", 0.0), delta_avg = s.slot(k, "delta_avg", 0.0);
    Expr rho = o.rho.of(p);
    Expr square_new = rho * square_avg + (1.0 - rho) * square(g);
    Expr delta = sqrt(delta_avg + o.epsilon) / sqrt(square_new + o.epsilon) * g;
    s.update(square_avg, square_new);
    s.update(delta_avg, rho * delta_avg + (1.0 - rho) * square(delta));
    s.update(p, p - o.lr.of(p) * delta);
  });
}

Updates rmsprop(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const RmspropOptions& o, SrcLoc loc) {
  return build("rmsprop", params, grads, loc, [&](Step& s, std::size_t k) {
    const Tensor &p = s.param(k), &g = s.grad(k);
    Tensor square_avg = s.slot(k, "square_avg", 0.0);
    Expr rho = o.rho.of(p);
    Expr square_new = rho * square_avg + (1.0 - rho) * square(g);
    s.update(square_avg, square_new);
    s.update(p, p - o.lr.of(p) * g / (sqrt(square_new) + o.epsilon));
  });
}

namespace {

/// Adam's moments and bias-corrected direction m̂ / (√v̂ + ε) for parameter k; `t` is this step's number.
Expr adam_direction(Step& s, std::size_t k, const Expr& t, const Hyper& beta1_h, const Hyper& beta2_h, double epsilon) {
  const Tensor &p = s.param(k), &g = s.grad(k);
  Tensor m = s.slot(k, "m", 0.0), v = s.slot(k, "v", 0.0);
  Expr beta1 = beta1_h.of(p), beta2 = beta2_h.of(p), step = cast(t, p.dtype());
  Expr m_new = beta1 * m + (1.0 - beta1) * g;
  Expr v_new = beta2 * v + (1.0 - beta2) * square(g);
  s.update(m, m_new);
  s.update(v, v_new);
  Expr m_hat = m_new / (1.0 - pow(beta1, step)), v_hat = v_new / (1.0 - pow(beta2, step));
  return m_hat / (sqrt(v_hat) + epsilon);
}

}  // namespace

Updates adam(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const AdamOptions& o, SrcLoc loc) {
  Expr t;
  return build("adam", params, grads, loc, [&](Step& s, std::size_t k) {
    if (k == 0) t = s.step_number();
    const Tensor& p = s.param(k);
    s.update(p, p - o.lr.of(p) * adam_direction(s, k, t, o.beta1, o.beta2, o.epsilon));
  });
}

Updates adamw(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const AdamWOptions& o, SrcLoc loc) {
  Expr t;
  return build("adamw", params, grads, loc, [&](Step& s, std::size_t k) {
    if (k == 0) t = s.step_number();
    const Tensor& p = s.param(k);
    // Decoupled weight decay: the decay is applied to the parameter, not added to the gradient Adam scales.
    Expr direction = adam_direction(s, k, t, o.beta1, o.beta2, o.epsilon) + o.weight_decay.of(p) * p;
    s.update(p, p - o.lr.of(p) * direction);
  });
}

}  // namespace loom::optim
