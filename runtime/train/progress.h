#pragma once
/// What the fit loop shows while it runs: on a terminal a progress bar redrawn in place, elsewhere (CI logs,
/// pipes) one plain line per epoch.

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "loom/runtime/train/history.h"

namespace loom::train {

enum class ProgressStyle {
  automatic,  ///< a bar when the stream is a terminal, else lines
  bar,
  lines,
  off,
};

class Progress {
 public:
  Progress(std::FILE* out, ProgressStyle style, std::int64_t epochs);
  /// The style chosen (automatic resolved).
  ProgressStyle style() const { return style_; }

  void start_epoch(std::int64_t epoch, std::int64_t batches);
  /// After a training step: `batch` batches done of the epoch, the running loss and accuracy.
  void step(std::int64_t batch, double loss, double accuracy);
  void end_epoch(const EpochRecord& record, bool best);
  /// A line of its own (early stopping, restoring), placed so that it does not break a bar.
  void say(const std::string& line);

 private:
  void clear_bar();

  std::FILE* out_;
  ProgressStyle style_;
  std::int64_t epochs_, epoch_ = 0, batches_ = 0;
  bool bar_shown_ = false;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

}  // namespace loom::train
