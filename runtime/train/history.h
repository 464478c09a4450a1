#pragma once
/// A run's learning curves: what each epoch measured, and their CSV and SVG forms.

#include <cstdint>
#include <string>
#include <vector>

namespace loom::train {

struct EpochRecord {
  std::int64_t epoch = 0;  ///< 1-based
  double train_loss = 0, train_accuracy = 0, validation_loss = 0, validation_accuracy = 0;
  double learning_rate = 0;
  double seconds = 0;  ///< the epoch's training and validation time
};

struct History {
  std::vector<EpochRecord> epochs;
  std::int64_t best_epoch = 0;   ///< the epoch of the lowest validation loss (1-based; 0 before any)
  bool stopped_early = false;    ///< early stopping ended the run
  bool interrupted = false;      ///< FitOptions::stop_after_steps ended it, at `steps`
  std::int64_t steps = 0;        ///< training steps taken in all, over every part of a resumed run
};

/// epoch,train_loss,train_accuracy,validation_loss,validation_accuracy,learning_rate,seconds
void write_csv(const std::string& path, const History& history);
/// Two panels (loss, accuracy) of train against validation per epoch, with axes, ticks, labels and a legend;
/// the best epoch is marked. Rendered by any SVG viewer (the tests render it with rsvg-convert).
void write_svg(const std::string& path, const History& history, const std::string& title);

}  // namespace loom::train
