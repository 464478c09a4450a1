#pragma once
/// Optimizers (DESIGN §3 `optim::`): each returns the updates of one training step, written with graph ops, so an
/// optimizer step is part of the compiled function: it prints, fuses with the rest of the step and runs in place.
/// Each optimizer's state (velocities, accumulators, moments, its step counter) is made of new shared variables
/// named after the parameter ("W1.m"), visible in dumps and saved with the parameters. Formulas and papers:
/// docs/OPTIMIZERS.md.
///
///   std::vector<Tensor> gr = grad(cost, params);
///   Function train = compile({X, y}, {cost}, optim::adam(params, gr, {.lr = 1e-3}));

#include <vector>

#include "loom/frontend/function.h"

namespace loom::optim {

/// A hyperparameter: a number fixed when the step is built, or a scalar shared variable (g.shared("lr",
/// Array::scalar(0.01f))) that a schedule changes with set_value between calls, without recompiling.
class Hyper {
 public:
  Hyper(double value) : value_(value) {}  // NOLINT: a number converts
  Hyper(const Tensor& shared);            // NOLINT: so does a scalar shared variable

  /// The hyperparameter as a scalar of `like`'s dtype in `like`'s graph.
  Expr of(const Expr& like, SrcLoc loc = SrcLoc::current()) const;

 private:
  double value_ = 0;
  Tensor shared_;
};

struct SgdOptions {
  Hyper lr = 0.01;
};
struct MomentumOptions {
  Hyper lr = 0.01, momentum = 0.9;
};
struct NesterovOptions {
  Hyper lr = 0.01, momentum = 0.9;
};
struct AdagradOptions {
  Hyper lr = 0.01;
  double epsilon = 1e-10, initial_accumulator = 0.0;
};
struct AdadeltaOptions {
  Hyper lr = 1.0, rho = 0.9;
  double epsilon = 1e-6;
};
struct RmspropOptions {
  Hyper lr = 0.01, rho = 0.99;
  double epsilon = 1e-8;
};
struct AdamOptions {
  Hyper lr = 0.001, beta1 = 0.9, beta2 = 0.999;
  double epsilon = 1e-8;
};
struct AdamWOptions {
  Hyper lr = 0.001, beta1 = 0.9, beta2 = 0.999, weight_decay = 0.01;
  double epsilon = 1e-8;
};

/// Each takes the parameters (shared variables) and their gradients (tensors of the same types, e.g. from grad()).
/// Throws Error naming the optimizer, the parameter and the types, at the caller's line, when they do not fit.
Updates sgd(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const SgdOptions& options = {},
            SrcLoc loc = SrcLoc::current());
Updates momentum(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const MomentumOptions& options = {},
                 SrcLoc loc = SrcLoc::current());
Updates nesterov(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const NesterovOptions& options = {},
                 SrcLoc loc = SrcLoc::current());
Updates adagrad(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const AdagradOptions& options = {},
                SrcLoc loc = SrcLoc::current());
Updates adadelta(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const AdadeltaOptions& options = {},
                 SrcLoc loc = SrcLoc::current());
Updates rmsprop(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const RmspropOptions& options = {},
                SrcLoc loc = SrcLoc::current());
Updates adam(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const AdamOptions& options = {},
             SrcLoc loc = SrcLoc::current());
Updates adamw(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const AdamWOptions& options = {},
              SrcLoc loc = SrcLoc::current());

}  // namespace loom::optim
