#pragma once
/// Averaging of weights and of models: exponential moving averages of the parameters kept as state beside them
/// (Polyak & Juditsky 1992), averages of saved parameter sets, and ensembles that average their members'
/// predictions.

#include <vector>

#include "loom/frontend/optim.h"

namespace loom::averaging {

/// Shadow copies of parameters, averaged in the same step that updates the parameters.
struct MovingAverage {
  std::vector<Tensor> params, averages;
  /// avg ← decay·avg + (1 − decay)·p′ for each parameter, p′ its value after the step: add these to the step's.
  Updates updates;
  /// Exchanges every parameter's value with its average's: evaluate with the averaged weights between two calls.
  void swap();
};

/// Averages "<param>.ema" (starting at the parameters' current values) of `params`, whose new values in one
/// training step are the values `step` assigns them (or the parameter itself when `step` leaves it alone).
MovingAverage ema(const std::vector<Tensor>& params, const Updates& step, const optim::Hyper& decay = 0.999,
                  SrcLoc loc = SrcLoc::current());

/// The elementwise mean of several saved sets of the same parameters (e.g. the last checkpoints of a run).
std::vector<Array> mean_of_sets(const std::vector<std::vector<Array>>& sets, SrcLoc loc = SrcLoc::current());

/// The mean of K models' predictions of one type: an ensemble's prediction.
Tensor ensemble(const std::vector<Tensor>& predictions, SrcLoc loc = SrcLoc::current());

}  // namespace loom::averaging
