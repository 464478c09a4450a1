#include "loom/frontend/averaging.h"

#include <fmt/format.h>

#include "loom/frontend/parameters.h"

namespace loom::averaging {

MovingAverage ema(const std::vector<Tensor>& params, const Updates& step, const optim::Hyper& decay, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = frontend::parameters_graph("averaging::ema", params, {}, loc);
  ir::LocationOverride at_user(g, loc, ir::LocationOverride::Mode::replace);
  MovingAverage out;
  out.params = params;
  for (const Tensor& p : params) {
    Expr next = p;
    for (const auto& [target, value] : step)
      if (target.value() == p.value()) next = value;
    std::string name = frontend::unused_state_name(g, fmt::format("{}.ema", p.name().empty() ? "param" : p.name()));
    Tensor average = g.shared(name, p.get_value());
    Expr d = decay.of(p);
    out.averages.push_back(average);
    out.updates.push_back({average, d * average + (1.0 - d) * next});
  }
  return out;
}

void MovingAverage::swap() {
  for (std::size_t k = 0; k < params.size(); ++k) {
    Array value = params[k].get_value();
    params[k].set_value(averages[k].get_value());
    averages[k].set_value(value);
  }
}

std::vector<Array> mean_of_sets(const std::vector<std::vector<Array>>& sets, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  if (sets.empty()) raise(loc, "averaging::mean_of_sets: no parameter sets");
  std::vector<Array> mean;
  for (const Array& a : sets[0]) mean.push_back(Array(a.dtype(), a.shape()));
  for (std::size_t s = 0; s < sets.size(); ++s) {
    if (sets[s].size() != mean.size())
      raise(loc, "averaging::mean_of_sets: set {} has {} arrays, set 0 has {}", s, sets[s].size(), mean.size());
    for (std::size_t k = 0; k < mean.size(); ++k) {
      if (sets[s][k].type() != mean[k].type())
        raise(loc, "averaging::mean_of_sets: array {} of set {} is {}, of set 0 {}", k, s, sets[s][k].type().str(), mean[k].type().str());
      for (std::int64_t i = 0; i < mean[k].size(); ++i)
        mean[k].set(i, mean[k].get(i) + sets[s][k].get(i) / static_cast<double>(sets.size()));
    }
  }
  return mean;
}

Tensor ensemble(const std::vector<Tensor>& predictions, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = frontend::tensors_graph("averaging::ensemble", predictions, loc);
  ir::LocationOverride at_user(g, loc, ir::LocationOverride::Mode::replace);
  Expr total = predictions[0];
  for (std::size_t k = 1; k < predictions.size(); ++k) {
    if (predictions[k].type() != predictions[0].type())
      raise(loc, "averaging::ensemble: prediction {} is {}, prediction 0 is {}", k, predictions[k].type().str(),
            predictions[0].type().str());
    total = total + predictions[k];
  }
  return total * (1.0 / static_cast<double>(predictions.size()));
}

}  // namespace loom::averaging
