#pragma once
/// The training loop: epochs of minibatches through a Model's compiled step, validation after each epoch,
/// learning-rate schedules, early stopping, moving-average evaluation, callbacks, learning curves, progress, and
/// checkpoints from which a run resumes bit for bit.
///
///   train::Model model = train::model(step, evaluate, lr, g.shared_variables());   // frontend/trainer.h
///   train::History h = train::fit(model, split.train, split.validation, {.epochs = 10, .checkpoint = "run.ckpt"});

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "loom/runtime/data/batches.h"
#include "loom/runtime/train/history.h"
#include "loom/runtime/train/metrics.h"
#include "loom/runtime/train/model.h"
#include "loom/runtime/train/progress.h"
#include "loom/runtime/train/schedule.h"

namespace loom::train {

struct FitOptions {
  std::int64_t epochs = 10;
  std::int64_t batch_size = 128;
  /// Draws the data order of each epoch, the augmentations and mixup (dropout draws from the graph's own counter).
  std::uint64_t seed = 1;
  double learning_rate = 1e-3;
  ScheduleOptions schedule;
  /// Stop after this many epochs without a lower validation loss (0: never).
  std::int64_t early_stopping = 0;
  /// When early stopping is on: end with the state of the best epoch.
  bool restore_best = true;
  data::Augmentation augmentation;
  /// > 0: train on mixup batches with Beta(α, α) weights; the train step then takes {x, labels_a, labels_b, λ}.
  double mixup_alpha = 0;
  /// Validate with the parameters' moving averages swapped in (Model::swap_averages).
  bool evaluate_averages = false;
  /// Where to save the run after every epoch, and when it stops (empty: nowhere).
  std::string checkpoint;
  /// Continue the run saved in `checkpoint` when the file exists (it must be of this model and these settings).
  bool resume = false;
  /// > 0: stop after this many training steps in all (a run split into parts; saves the checkpoint first).
  std::int64_t stop_after_steps = 0;
  ProgressStyle progress = ProgressStyle::automatic;
  std::FILE* out = stdout;
  /// Called after each epoch, in order; one returning false ends the run after that epoch.
  std::vector<std::function<bool(const EpochRecord&)>> callbacks;
};

History fit(Model& model, const data::LabelledImages& train, const data::LabelledImages& validation,
            const FitOptions& options);

/// The mean loss and the accuracy over every example of `set`, each once.
Metrics evaluate(Model& model, const data::LabelledImages& set, std::int64_t batch_size);

}  // namespace loom::train
