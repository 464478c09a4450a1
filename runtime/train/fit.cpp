#include "loom/runtime/train/fit.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "loom/runtime/mixup.h"

namespace loom::train {

namespace {

/// The seed of step `step`'s augmentation and mixup (splitmix64 of the run's seed and the step).
std::uint64_t step_seed(std::uint64_t seed, std::int64_t step) {
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(step) + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Where a run is: everything beyond the model's state that resuming needs to continue bit for bit.
struct RunState {
  std::int64_t epoch = 0, position = 0;  ///< the next example of the epoch's order
  Metrics running;                       ///< the epoch's training sums so far
  History history;
  double best_loss = std::numeric_limits<double>::infinity();
  std::int64_t waited = 0;               ///< epochs since the best
  checkpoint::Entries best;              ///< the model's state at the best epoch (early stopping + restore_best)
};

constexpr const char* kBestPrefix = "best/";

/// The run's settings that must not change between the parts of a resumed run.
Array run_settings(const FitOptions& o, const data::LabelledImages& train) {
  return Array::from(std::vector<std::int64_t>{o.batch_size, static_cast<std::int64_t>(o.seed), train.images.shape()[0],
                                               static_cast<std::int64_t>(o.mixup_alpha > 0)},
                     {4});
}

void save_run(const std::string& path, Model& model, const RunState& s, const LearningRateSchedule& schedule,
              const Array& settings) {
  checkpoint::Entries entries = model.state();
  entries.emplace_back("fit.settings", settings);
  entries.emplace_back("fit.counters", Array::from(std::vector<std::int64_t>{s.epoch, s.position, s.history.steps,
                                                                             s.history.best_epoch, s.waited},
                                                   {5}));
  entries.emplace_back("fit.sums", Array::from(std::vector<double>{s.running.loss_sum, s.running.correct,
                                                                   s.running.count, s.best_loss},
                                               {4}));
  std::vector<double> rows;
  for (const EpochRecord& r : s.history.epochs)
    rows.insert(rows.end(), {static_cast<double>(r.epoch), r.train_loss, r.train_accuracy, r.validation_loss,
                             r.validation_accuracy, r.learning_rate, r.seconds});
  entries.emplace_back("fit.history", Array::from(rows, {static_cast<std::int64_t>(s.history.epochs.size()), 7}));
  entries.emplace_back("fit.schedule", schedule.state());
  for (const auto& [name, value] : s.best) entries.emplace_back(kBestPrefix + name, value);
  checkpoint::save(path, entries);
}

void load_run(const std::string& path, Model& model, RunState& s, LearningRateSchedule& schedule, const Array& settings) {
  checkpoint::Entries entries = checkpoint::load(path);
  std::map<std::string, Array> fit;
  checkpoint::Entries state;
  for (auto& [name, value] : entries) {
    if (name.starts_with("fit.")) fit[name] = value;
    else if (name.starts_with(kBestPrefix)) s.best.emplace_back(name.substr(std::strlen(kBestPrefix)), value);
    else state.emplace_back(name, value);
  }
  for (const char* needed : {"fit.settings", "fit.counters", "fit.sums", "fit.history", "fit.schedule"})
    if (!fit.count(needed)) throw Error(fmt::format("{}: not a checkpoint of train::fit (no '{}')", path, needed));
  const Array& saved = fit["fit.settings"];
  static const char* const kSetting[] = {"batch size", "seed", "training-set size", "mixup"};
  for (std::int64_t k = 0; k < 4; ++k)
    if (saved.type() != settings.type() || saved.get(k) != settings.get(k))
      throw Error(fmt::format("{}: the checkpoint's run has {} {}, this run {}: resume with the same settings", path,
                              kSetting[k], saved.type() == settings.type() ? saved.get(k) : -1, settings.get(k)));
  model.restore(state, path);  // checks the model's entries before anything changes
  std::vector<std::int64_t> counters = fit["fit.counters"].to_vector<std::int64_t>();
  std::vector<double> sums = fit["fit.sums"].to_vector<double>();
  s.epoch = counters.at(0), s.position = counters.at(1), s.history.steps = counters.at(2);
  s.history.best_epoch = counters.at(3), s.waited = counters.at(4);
  s.running = {sums.at(0), sums.at(1), sums.at(2)};
  s.best_loss = sums.at(3);
  std::vector<double> rows = fit["fit.history"].to_vector<double>();
  for (std::size_t i = 0; i + 7 <= rows.size(); i += 7)
    s.history.epochs.push_back({static_cast<std::int64_t>(rows[i]), rows[i + 1], rows[i + 2], rows[i + 3], rows[i + 4],
                                rows[i + 5], rows[i + 6]});
  schedule.restore(fit["fit.schedule"]);
}

/// Runs one training step on the batch in (x, labels); returns the batch's mean loss.
double train_step(Model& model, const FitOptions& o, std::int64_t step, Array& x, Array& labels,
                  std::vector<Array>& outputs) {
  if (o.augmentation.any()) data::augment(x, o.augmentation, step_seed(o.seed, step));
  if (o.mixup_alpha > 0) {
    MixedBatch mixed = mixup(x, labels, o.mixup_alpha, step_seed(o.seed ^ 0x5EED, step));
    model.train({mixed.x, mixed.labels_a, mixed.labels_b, mixed.lambda}, outputs);
  } else {
    model.train({x, labels}, outputs);
  }
  return outputs[0].get(0);
}

void check_options(const Model& model, const FitOptions& o, const data::LabelledImages& train,
                   const data::LabelledImages& validation) {
  if (o.epochs < 0) throw Error(fmt::format("train::fit: {} epochs", o.epochs));
  if (o.batch_size <= 0) throw Error(fmt::format("train::fit: batch size {}", o.batch_size));
  if (train.images.shape()[0] == 0) throw Error("train::fit: the training set is empty");
  if (validation.images.shape()[0] == 0)
    throw Error("train::fit: the validation set is empty (split one off with data::split)");
  if (o.resume && o.checkpoint.empty()) throw Error("train::fit: resume needs a checkpoint path");
  if (o.evaluate_averages && !model.swap_averages)
    throw Error("train::fit: evaluating with moving averages, but the model keeps none");
  if (!model.train || !model.evaluate || !model.set_learning_rate || !model.state || !model.restore || model.classes <= 0)
    throw Error("train::fit: the model lacks a step, its state or its class count");
}

}  // namespace

Metrics evaluate(Model& model, const data::LabelledImages& set, std::int64_t batch_size) {
  data::Batches batches(set, batch_size, 0, /*shuffle=*/false);
  Array x(DType::f32, {batch_size, set.images.shape()[1]}), labels(DType::i32, {batch_size});
  std::vector<Array> outputs{Array(DType::f32, {batch_size}), Array(DType::f32, {batch_size, model.classes})};
  Metrics m;
  while (std::int64_t fresh = batches.next(x, labels)) {
    model.evaluate({x, labels}, outputs);
    const float* losses = outputs[0].data<float>();
    for (std::int64_t i = 0; i < fresh; ++i) m.loss_sum += losses[i];
    m.correct += static_cast<double>(count_correct(outputs[1], labels, fresh));
    m.count += static_cast<double>(fresh);
  }
  return m;
}

History fit(Model& model, const data::LabelledImages& train, const data::LabelledImages& validation,
            const FitOptions& o) {
  check_options(model, o, train, validation);
  LearningRateSchedule schedule(o.learning_rate, o.schedule, o.epochs);
  Progress progress(o.out, o.progress, o.epochs);
  const Array settings = run_settings(o, train);
  RunState s;
  if (o.resume && std::filesystem::exists(o.checkpoint)) {
    load_run(o.checkpoint, model, s, schedule, settings);
    progress.say(fmt::format("resumed {} at epoch {}, example {} ({} steps done)", o.checkpoint, s.epoch + 1,
                             s.position, s.history.steps));
  }
  auto save = [&] {
    if (!o.checkpoint.empty()) save_run(o.checkpoint, model, s, schedule, settings);
  };

  data::Batches batches(train, o.batch_size, o.seed);
  Array x(DType::f32, {o.batch_size, train.images.shape()[1]}), labels(DType::i32, {o.batch_size});
  std::vector<Array> outputs{Array(DType::f32, {}), Array(DType::f32, {o.batch_size, model.classes})};
  while (s.epoch < o.epochs) {
    auto start = std::chrono::steady_clock::now();
    double rate = schedule.rate(s.epoch);
    model.set_learning_rate(rate);
    batches.start(s.epoch, s.position);
    progress.start_epoch(s.epoch + 1, batches.batches_per_epoch());
    while (std::int64_t fresh = batches.next(x, labels)) {
      double loss = train_step(model, o, s.history.steps, x, labels, outputs);
      if (!std::isfinite(loss))
        throw Error(fmt::format("train::fit: the loss is {} at epoch {}, step {} (learning rate {:g}): training "
                                "diverged; the last checkpoint holds the run before this epoch",
                                loss, s.epoch + 1, s.history.steps + 1, rate));
      ++s.history.steps;
      s.position = batches.position();
      s.running.loss_sum += loss * static_cast<double>(fresh);
      s.running.correct += static_cast<double>(count_correct(outputs[1], labels, fresh));
      s.running.count += static_cast<double>(fresh);
      progress.step((s.position + o.batch_size - 1) / o.batch_size, s.running.loss(), s.running.accuracy());
      if (o.stop_after_steps > 0 && s.history.steps >= o.stop_after_steps) {
        s.history.interrupted = true;
        save();
        progress.say(fmt::format("stopped after {} steps, at epoch {}, example {}", s.history.steps, s.epoch + 1, s.position));
        return s.history;
      }
    }

    if (o.evaluate_averages) model.swap_averages();
    Metrics val = evaluate(model, validation, o.batch_size);
    if (o.evaluate_averages) model.swap_averages();
    EpochRecord record{s.epoch + 1, s.running.loss(), s.running.accuracy(), val.loss(), val.accuracy(), rate,
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
    bool best = val.loss() < s.best_loss;
    if (best) {
      s.best_loss = val.loss();
      s.history.best_epoch = record.epoch;
      s.waited = 0;
      if (o.early_stopping > 0 && o.restore_best) s.best = model.state();
    } else {
      ++s.waited;
    }
    schedule.end_epoch(val.loss());
    s.history.epochs.push_back(record);
    progress.end_epoch(record, best);
    s.position = 0;
    s.running = {};
    bool stop = o.early_stopping > 0 && s.waited >= o.early_stopping;
    for (const auto& callback : o.callbacks) stop |= !callback(record);
    s.history.stopped_early = stop && o.early_stopping > 0 && s.waited >= o.early_stopping;
    s.epoch = stop ? o.epochs : s.epoch + 1;  // a resumed run does not continue a stopped one
    save();
    if (stop) {
      if (s.history.stopped_early)
        progress.say(fmt::format("early stopping: no better validation loss for {} epochs", s.waited));
      break;
    }
  }
  if (o.early_stopping > 0 && o.restore_best && !s.best.empty() &&
      s.history.best_epoch != static_cast<std::int64_t>(s.history.epochs.size())) {
    model.restore(s.best, fmt::format("the state of epoch {}", s.history.best_epoch));
    progress.say(fmt::format("restored the state of epoch {} (validation loss {:.4f})", s.history.best_epoch, s.best_loss));
  }
  return s.history;
}

}  // namespace loom::train
