#include "loom/codegen/agreement.h"

#include <fmt/format.h>

#include <cmath>

namespace loom::codegen {

namespace {

bool same_non_finite(double a, double b) { return std::isnan(a) ? std::isnan(b) : a == b; }

}  // namespace

Disagreement disagreement(const Array& reference, const Array& exact, std::span<const Array> perturbed,
                          const Array& got, double rel, double abs) {
  if (got.type().shape != reference.type().shape)
    return {INFINITY, -1,
            fmt::format("shape {} differs from the reference's {}", got.type().str(), reference.type().str())};
  Disagreement worst;
  for (std::int64_t i = 0; i < reference.size(); ++i) {
    double r = reference.get(i), e = exact.get(i), g = got.get(i), spread = 0, ratio = 0, tolerance = 0;
    if (!std::isfinite(r) || !std::isfinite(e)) {
      ratio = same_non_finite(e, g) ? 0 : INFINITY;
    } else {
      for (const Array& p : perturbed) spread = std::max(spread, std::abs(p.get(i) - r));
      tolerance = rel * std::abs(r) + kSpreadFactor * spread + abs;
      ratio = !std::isfinite(g) ? INFINITY : g == r ? 0 : std::abs(g - r) / tolerance;
    }
    if (ratio <= worst.ratio) continue;
    worst = {
        ratio, i,
        fmt::format("element {} of {}: got {:.9g}, reference {:.17g} (exact {:.9g}); tolerance {:.3g} = {}·|ref| + "
                    "{}·rounding spread {:.3g} + {:.3g}",
                    i, got.type().str(), g, r, e, tolerance, rel, kSpreadFactor, spread, abs)};
  }
  return worst;
}

}  // namespace loom::codegen
