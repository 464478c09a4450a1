#pragma once
/// train::fit (runtime/train/fit.h) over compiled loom Functions.

#include "loom/frontend/averaging.h"
#include "loom/frontend/function.h"
#include "loom/runtime/train/fit.h"

namespace loom::train {

struct ModelParts {
  /// Inputs {x, labels} (with mixup {x, labels_a, labels_b, lambda}); outputs {mean loss, logits}.
  Function step;
  /// Inputs {x, labels}; outputs {each example's loss (softmax_cross_entropy_rows), logits}; compiled with
  /// `.training = false`.
  Function evaluate;
  /// The scalar shared variable the optimizer reads its learning rate from.
  Tensor learning_rate;
  /// What a checkpoint holds: usually Graph::shared_variables(), every piece of state.
  std::vector<Tensor> state;
  std::int64_t classes = 0;
  /// The parameters' moving averages, when the step keeps them (averaging::ema).
  const averaging::MovingAverage* averages = nullptr;
};

Model model(ModelParts parts, SrcLoc loc = SrcLoc::current());

}  // namespace loom::train
