#include "loom/runtime/mixup.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace loom {

MixedBatch mixup(const Array& x, const Array& labels, double alpha, std::uint64_t seed) {
  if (x.rank() < 1 || labels.rank() != 1 || labels.shape()[0] != x.shape()[0])
    throw Error("mixup: x " + x.type().str() + " and labels " + labels.type().str() + " need one label per row of x");
  if (!is_float(x.dtype())) throw Error("mixup: x is " + x.type().str() + ", not a float array");
  if (!(alpha > 0)) throw Error("mixup: alpha " + std::to_string(alpha) + " is not positive");
  // std::mt19937_64 and libstdc++'s distributions give the same draws for a seed on every machine of this project.
  std::mt19937_64 rng(seed);
  std::gamma_distribution<double> gamma(alpha, 1.0);
  double a = gamma(rng), b = gamma(rng), lambda = a / (a + b);  // Beta(α, α) as a ratio of two Gammas
  std::int64_t rows = x.shape()[0], row_size = x.size() / std::max<std::int64_t>(rows, 1);
  std::vector<std::int64_t> partner(static_cast<std::size_t>(rows));
  std::iota(partner.begin(), partner.end(), 0);
  std::shuffle(partner.begin(), partner.end(), rng);
  MixedBatch out{Array(x.dtype(), x.shape()), labels.copy(), Array(labels.dtype(), labels.shape()), Array::full({}, lambda, x.dtype())};
  for (std::int64_t r = 0; r < rows; ++r) {
    std::int64_t p = partner[static_cast<std::size_t>(r)];
    out.labels_b.set(r, labels.get(p));
    for (std::int64_t k = 0; k < row_size; ++k)
      out.x.set(r * row_size + k, lambda * x.get(r * row_size + k) + (1 - lambda) * x.get(p * row_size + k));
  }
  return out;
}

}  // namespace loom
