#include "loom/runtime/train/metrics.h"

namespace loom::train {

std::int64_t count_correct(const Array& logits, const Array& labels, std::int64_t rows) {
  std::int64_t classes = logits.shape()[1], correct = 0;
  const float* row = logits.data<float>();
  const std::int32_t* label = labels.data<std::int32_t>();
  for (std::int64_t r = 0; r < rows; ++r, row += classes) {
    std::int64_t best = 0;
    for (std::int64_t c = 1; c < classes; ++c)
      if (row[c] > row[best]) best = c;
    correct += best == label[r];
  }
  return correct;
}

}  // namespace loom::train
