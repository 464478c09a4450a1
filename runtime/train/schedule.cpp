#include "loom/runtime/train/schedule.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include <fmt/format.h>

namespace loom::train {

std::optional<ScheduleKind> parse_schedule(std::string_view name) {
  if (name == "constant") return ScheduleKind::constant;
  if (name == "step") return ScheduleKind::step;
  if (name == "cosine") return ScheduleKind::cosine;
  if (name == "plateau") return ScheduleKind::plateau;
  return std::nullopt;
}

LearningRateSchedule::LearningRateSchedule(double initial, const ScheduleOptions& options, std::int64_t epochs)
    : initial_(initial),
      options_(options),
      epochs_(std::max<std::int64_t>(epochs, 1)),
      plateau_rate_(initial),
      best_loss_(std::numeric_limits<double>::infinity()) {
  if (!(initial > 0)) throw Error(fmt::format("learning-rate schedule: initial rate {} is not positive", initial));
  if (options.kind == ScheduleKind::step && options.every <= 0)
    throw Error(fmt::format("learning-rate schedule: step decay every {} epochs", options.every));
  if ((options.kind == ScheduleKind::step || options.kind == ScheduleKind::plateau) && !(options.factor > 0 && options.factor < 1))
    throw Error(fmt::format("learning-rate schedule: decay factor {} is outside (0, 1)", options.factor));
}

double LearningRateSchedule::rate(std::int64_t epoch) const {
  double rate = initial_;
  switch (options_.kind) {
    case ScheduleKind::constant: return initial_;
    case ScheduleKind::step: rate = initial_ * std::pow(options_.factor, static_cast<double>(epoch / options_.every)); break;
    case ScheduleKind::cosine: {
      double progress = std::min(1.0, static_cast<double>(epoch) / static_cast<double>(epochs_));
      rate = options_.min_rate + (initial_ - options_.min_rate) * (1 + std::cos(std::numbers::pi * progress)) / 2;
      break;
    }
    case ScheduleKind::plateau: rate = plateau_rate_; break;
  }
  return std::max(rate, options_.min_rate);
}

void LearningRateSchedule::end_epoch(double validation_loss) {
  if (options_.kind != ScheduleKind::plateau) return;
  if (validation_loss < best_loss_ - options_.min_delta) {
    best_loss_ = validation_loss;
    waited_ = 0;
  } else if (++waited_ >= options_.patience) {
    plateau_rate_ = std::max(plateau_rate_ * options_.factor, options_.min_rate);
    waited_ = 0;
  }
}

Array LearningRateSchedule::state() const {
  return Array::from(std::vector<double>{plateau_rate_, best_loss_, static_cast<double>(waited_)}, {3});
}

void LearningRateSchedule::restore(const Array& state) {
  if (state.type() != TensorType{DType::f64, {3}}) throw Error(fmt::format("learning-rate schedule: a saved state of type {}", state.type().str()));
  plateau_rate_ = state.get(0);
  best_loss_ = state.get(1);
  waited_ = static_cast<std::int64_t>(state.get(2));
}

}  // namespace loom::train
