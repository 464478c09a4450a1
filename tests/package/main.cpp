// Builds, differentiates and runs a tiny graph through the installed API; exits non-zero on a wrong answer.
#include <cstdio>

#include <loom/loom.h>

int main() {
  using namespace loom;
  Graph g;
  Tensor x = g.input("x", {3});
  Tensor w = g.shared("w", Array::from<float>({1, 2, 3}));
  Tensor cost = sum(w * x);
  Function f = compile({x}, {cost, grad(cost, {w})[0]});
  std::vector<Array> out = f({Array::from<float>({4, 5, 6})});
  bool ok = out[0].item<float>() == 32.0f && out[1].to_vector<float>() == std::vector<float>{4, 5, 6};
  std::printf("loom package smoke test: cost %g, %s\n", out[0].item<float>(), ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
