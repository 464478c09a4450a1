#pragma once
/// Learning-rate schedules, decided once per epoch by the fit loop and applied through a scalar shared variable
/// (optim::Hyper), so a new rate needs no recompile.

#include <cstdint>
#include <optional>
#include <string_view>

#include "loom/runtime/array.h"

namespace loom::train {

enum class ScheduleKind {
  constant,  ///< the initial rate throughout
  step,      ///< rate₀ · factor^⌊epoch / every⌋ (step decay)
  cosine,    ///< min + (rate₀ − min)·(1 + cos(π·epoch / epochs))/2 (Loshchilov & Hutter 2017, without restarts)
  plateau,   ///< rate · factor after `patience` epochs whose validation loss did not improve by min_delta
};

/// The schedule's name on a command line ("constant", "step", "cosine", "plateau").
std::optional<ScheduleKind> parse_schedule(std::string_view name);

struct ScheduleOptions {
  ScheduleKind kind = ScheduleKind::constant;
  std::int64_t every = 10;   ///< step: epochs between decays
  double factor = 0.5;       ///< step and plateau: the multiplier of each decay
  double min_rate = 0.0;     ///< cosine's floor, and no decay goes below it
  std::int64_t patience = 2;  ///< plateau: epochs without improvement before a decay
  double min_delta = 1e-4;   ///< plateau: how much lower a validation loss must be to count as better
};

class LearningRateSchedule {
 public:
  LearningRateSchedule(double initial, const ScheduleOptions& options, std::int64_t epochs);
  /// The rate for epoch `epoch` (0-based).
  double rate(std::int64_t epoch) const;
  /// Told after each epoch; reduce-on-plateau decides from the validation loss.
  void end_epoch(double validation_loss);

  /// The schedule's own state (plateau: the current rate, the best loss, the epochs waited) for a checkpoint.
  Array state() const;
  void restore(const Array& state);

 private:
  double initial_;
  ScheduleOptions options_;
  std::int64_t epochs_;
  double plateau_rate_, best_loss_;
  std::int64_t waited_ = 0;
};

}  // namespace loom::train
