#pragma once
/// Mixup (Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018) as a batch transform: the network
/// trains on convex combinations of pairs of examples, with the same combination of their labels' losses.

#include <cstdint>

#include "loom/runtime/array.h"

namespace loom {

/// A mixed batch: x = λ·x + (1 − λ)·x[π] row by row, with λ ~ Beta(α, α) and π a permutation of the rows, both
/// drawn from `seed`; labels_a are the rows' labels, labels_b their partners' (labels[π]); lambda is a scalar of
/// x's dtype. Train on it with mixup_cross_entropy(logits, labels_a, labels_b, lambda).
struct MixedBatch {
  Array x, labels_a, labels_b, lambda;
};

/// x: [N, ...] floats; labels: [N]; alpha > 0.
MixedBatch mixup(const Array& x, const Array& labels, double alpha, std::uint64_t seed);

}  // namespace loom
