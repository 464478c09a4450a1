#pragma once
/// What the fit loop needs of a model: its compiled steps and its state, as callables. The loop lives in the
/// runtime, below the frontend that compiles graphs; frontend/trainer.h makes a Model from loom Functions.

#include <functional>
#include <vector>

#include "loom/runtime/checkpoint.h"

namespace loom::train {

using Step = std::function<void(const std::vector<Array>& inputs, std::vector<Array>& outputs)>;

struct Model {
  /// One training step (forward, gradients, updates). Inputs {x f32[batch, features], labels i32[batch]}, or with
  /// mixup {x, labels_a, labels_b, lambda f32[]}; outputs {the batch's mean loss f32[], logits f32[batch, classes]}.
  Step train;
  /// Inputs {x, labels}; outputs {each example's loss f32[batch], logits f32[batch, classes]}. Changes no state.
  Step evaluate;
  std::int64_t classes = 0;
  /// Sets the learning rate the train step reads (a scalar shared variable: no recompile).
  std::function<void(double)> set_learning_rate;
  /// Every piece of state a run has (parameters, optimizer slots, running statistics, random step counters), by
  /// name, and its restoration from such entries (all or nothing; `source` names them in errors).
  std::function<checkpoint::Entries()> state;
  std::function<void(const checkpoint::Entries& entries, const std::string& source)> restore;
  /// Exchanges the parameters with their moving averages (empty when the model keeps none).
  std::function<void()> swap_averages;
};

}  // namespace loom::train
