#include "loom/frontend/grad.h"

namespace loom {

std::vector<Tensor> grad(const Expr& cost, const std::vector<Tensor>& wrt, const GradOptions& options, SrcLoc loc) {
  std::vector<Expr> wrt_exprs(wrt.begin(), wrt.end());
  std::vector<std::pair<Expr, Expr>> known(options.known_grads.begin(), options.known_grads.end());
  std::vector<Expr> constants(options.consider_constant.begin(), options.consider_constant.end());
  std::vector<Expr> grads = record_grad(cost, wrt_exprs, known, constants, options.disconnected, loc);
  return std::vector<Tensor>(grads.begin(), grads.end());
}

}  // namespace loom
