#pragma once
/// Loss and accuracy over batches, each example counted once.

#include <cstdint>

#include "loom/runtime/array.h"

namespace loom::train {

/// Sums over the examples seen so far.
struct Metrics {
  double loss_sum = 0, correct = 0, count = 0;
  double loss() const { return count > 0 ? loss_sum / count : 0.0; }
  double accuracy() const { return count > 0 ? correct / count : 0.0; }
};

/// How many of the first `rows` rows of logits [batch, classes] have their largest value (the first, on ties) at
/// the row's label.
std::int64_t count_correct(const Array& logits, const Array& labels, std::int64_t rows);

}  // namespace loom::train
