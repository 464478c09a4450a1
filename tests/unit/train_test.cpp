// The fit loop: schedules, metrics over partial batches, early stopping with restore-best, callbacks, progress on
// a terminal and off one, and a compiled model trained through train::model.

#include <poll.h>
#include <pty.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <numbers>

#include <catch2/catch.hpp>

#include "loom/loom.h"

using namespace loom;
using Catch::Matchers::Contains;

namespace {

/// n examples of `features` features whose label is example % classes.
data::LabelledImages synthetic(std::int64_t n, std::int64_t features, std::int64_t classes) {
  data::LabelledImages set{Array::uniform({n, features}, 0, 1, 5), Array(DType::i32, {n})};
  for (std::int64_t i = 0; i < n; ++i) set.labels.set(i, static_cast<double>(i % classes));
  return set;
}

/// A model without a graph: its one state "w" counts training steps; its validation loss for a given w is
/// scripted, so the loop's decisions can be checked exactly. Logits favour class (row % 2) when `right`.
struct ScriptedModel {
  std::vector<double> validation_losses;  ///< by epoch (w / steps per epoch − 1)
  std::int64_t steps_per_epoch;
  double w = 0;
  std::vector<double> rates;

  train::Model model() {
    train::Model m;
    m.classes = 2;
    m.train = [this](const std::vector<Array>&, std::vector<Array>& out) {
      w += 1;
      out[0].set(0, 0.5);
      for (std::int64_t r = 0; r < out[1].shape()[0]; ++r) out[1].set(2 * r, 1.0);  // always class 0
    };
    m.evaluate = [this](const std::vector<Array>& in, std::vector<Array>& out) {
      auto epoch = static_cast<std::size_t>(w / static_cast<double>(steps_per_epoch)) - 1;
      for (std::int64_t r = 0; r < out[0].shape()[0]; ++r) {
        out[0].set(r, validation_losses.at(epoch));
        out[1].set(2 * r + static_cast<std::int64_t>(in[1].get(r)), 1.0);  // always right
        out[1].set(2 * r + 1 - static_cast<std::int64_t>(in[1].get(r)), 0.0);
      }
    };
    m.set_learning_rate = [this](double rate) { rates.push_back(rate); };
    m.state = [this] { return checkpoint::Entries{{"w", Array::scalar(w)}}; };
    m.restore = [this](const checkpoint::Entries& e, const std::string&) { w = e.at(0).second.item<double>(); };
    return m;
  }
};

}  // namespace

TEST_CASE("learning-rate schedules: step decay, cosine, and reduce-on-plateau with its state") {
  using train::ScheduleKind;
  train::LearningRateSchedule step(0.1, {.kind = ScheduleKind::step, .every = 3, .factor = 0.5}, 10);
  CHECK(step.rate(0) == 0.1);
  CHECK(step.rate(2) == 0.1);
  CHECK(step.rate(3) == 0.05);
  CHECK(step.rate(7) == 0.025);
  train::LearningRateSchedule cosine(0.1, {.kind = ScheduleKind::cosine, .min_rate = 0.01}, 10);
  CHECK(cosine.rate(0) == Approx(0.1));
  CHECK(cosine.rate(5) == Approx(0.055));
  CHECK(cosine.rate(3) == Approx(0.01 + 0.09 * (1 + std::cos(std::numbers::pi * 0.3)) / 2));
  train::LearningRateSchedule plateau(0.1, {.kind = ScheduleKind::plateau, .factor = 0.5, .patience = 2}, 10);
  for (double loss : {1.0, 0.9, 0.95, 0.9}) plateau.end_epoch(loss);  // two epochs without improvement
  CHECK(plateau.rate(4) == 0.05);
  train::LearningRateSchedule copy(0.1, {.kind = ScheduleKind::plateau, .factor = 0.5, .patience = 2}, 10);
  copy.restore(plateau.state());
  copy.end_epoch(0.95);
  plateau.end_epoch(0.95);
  CHECK(copy.rate(5) == plateau.rate(5));
  CHECK(train::parse_schedule("cosine") == ScheduleKind::cosine);
  CHECK_FALSE(train::parse_schedule("linear"));
  CHECK_THROWS_WITH(train::LearningRateSchedule(0.1, {.kind = ScheduleKind::step, .factor = 2}, 10),
                    Contains("decay factor 2 is outside (0, 1)"));
}

TEST_CASE("evaluation counts every example once, also in a partial last batch, and ties go to the first class") {
  Array logits = Array::from(std::vector<float>{1, 1, 0, 2, 3, 3}, {3, 2}), labels = Array::from(std::vector<std::int32_t>{0, 1, 1});
  CHECK(train::count_correct(logits, labels, 3) == 2);  // row 2 ties: class 0, wrong
  CHECK(train::count_correct(logits, labels, 1) == 1);

  ScriptedModel scripted{{0.25}, 1};
  scripted.w = 1;  // one epoch done
  train::Model model = scripted.model();
  train::Metrics m = train::evaluate(model, synthetic(10, 3, 2), 4);  // batches of 4, 4, 2 (+ 2 repeated)
  CHECK(m.count == 10);
  CHECK(m.correct == 10);
  CHECK(m.loss() == 0.25);
}

TEST_CASE("early stopping ends the run after `patience` epochs without improvement and restores the best state") {
  ScriptedModel scripted{{1.0, 0.8, 0.7, 0.75, 0.71, 0.9, 0.6}, 3};  // best at epoch 3, then none better for 3 epochs
  train::Model model = scripted.model();
  data::LabelledImages train = synthetic(9, 3, 2), validation = synthetic(4, 3, 2);
  train::History h = train::fit(model, train, validation,
                                {.epochs = 7, .batch_size = 3, .learning_rate = 0.1, .schedule = {.kind = train::ScheduleKind::plateau, .factor = 0.5, .patience = 2},
                                 .early_stopping = 3, .progress = train::ProgressStyle::off});
  CHECK(h.epochs.size() == 6);
  CHECK(h.stopped_early);
  CHECK(h.best_epoch == 3);
  CHECK(scripted.w == 9);  // the state after epoch 3
  CHECK(scripted.rates == std::vector<double>{0.1, 0.1, 0.1, 0.1, 0.1, 0.05});  // plateau after epochs 4 and 5
  CHECK(h.epochs[2].validation_loss == Approx(0.7));
  CHECK(h.epochs[0].validation_accuracy == 1.0);
  CHECK(h.epochs[0].train_accuracy == Approx(5.0 / 9));  // labels 0,1,0,... and the model always says 0
  CHECK(h.steps == 18);

  SECTION("a callback returning false ends the run after its epoch") {
    scripted.w = 0;
    int calls = 0;
    train::History stopped = train::fit(model, train, validation,
                                        {.epochs = 7, .batch_size = 3, .progress = train::ProgressStyle::off,
                                         .callbacks = {[&](const train::EpochRecord& r) { ++calls; return r.epoch < 2; }}});
    CHECK(stopped.epochs.size() == 2);
    CHECK(calls == 2);
    CHECK_FALSE(stopped.stopped_early);
  }
}

TEST_CASE("a diverging run stops with an error naming the epoch, the step and the learning rate") {
  ScriptedModel scripted{{1.0}, 3};
  train::Model model = scripted.model();
  model.train = [](const std::vector<Array>&, std::vector<Array>& out) { out[0].set(0, NAN); };
  CHECK_THROWS_WITH(train::fit(model, synthetic(9, 3, 2), synthetic(4, 3, 2), {.epochs = 1, .batch_size = 3, .progress = train::ProgressStyle::off}),
                    Contains("the loss is nan at epoch 1, step 1 (learning rate 0.001)"));
}

TEST_CASE("progress is a bar redrawn in place on a terminal and plain lines elsewhere") {
  auto run = [](std::FILE* out) {
    ScriptedModel scripted{{1.0, 0.5}, 3};
    train::Model model = scripted.model();
    train::fit(model, synthetic(9, 3, 2), synthetic(4, 3, 2), {.epochs = 2, .batch_size = 3, .out = out});
    std::fflush(out);
  };
  int master = -1, slave = -1;
  REQUIRE(::openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
  std::FILE* terminal = ::fdopen(slave, "w");
  REQUIRE(train::Progress(terminal, train::ProgressStyle::automatic, 1).style() == train::ProgressStyle::bar);
  run(terminal);
  // One read returns what the terminal has passed on so far, which can be part of it: read until nothing is left.
  std::string shown;
  char chunk[4096];
  for (pollfd ready{master, POLLIN, 0}; ::poll(&ready, 1, 200) > 0 && (ready.revents & POLLIN);) {
    ssize_t got = ::read(master, chunk, sizeof chunk);
    if (got <= 0) break;
    shown.append(chunk, static_cast<std::size_t>(got));
  }
  std::fclose(terminal);
  ::close(master);
  CHECK_THAT(shown, Contains("\r\033[Kepoch 1/2 [") && Contains("] 3/3") && Contains("epoch   2/2  train loss"));

  std::FILE* file = std::tmpfile();
  REQUIRE(train::Progress(file, train::ProgressStyle::automatic, 1).style() == train::ProgressStyle::lines);
  run(file);
  std::rewind(file);
  std::string written(8192, '\0');
  written.resize(std::fread(written.data(), 1, written.size(), file));
  std::fclose(file);
  CHECK(written.find('\r') == std::string::npos);
  CHECK(written.find('[') == std::string::npos);
  CHECK_THAT(written, Contains("epoch   1/2  train loss 0.5000 acc  55.56%  val loss 1.0000 acc 100.00%  lr 0.001"));
}

TEST_CASE("train::fit trains a compiled model, validating with its moving averages", "[jit]") {
  Graph g;
  Tensor X = g.input("X", {16, 8}), labels = g.input("labels", {16}, DType::i32);
  Tensor lr = g.shared("lr", Array::scalar(0.1f));
  nn::Parameters params(3);
  Tensor logits = nn::dense(relu(nn::dense(X, 16, params, {.name = "fc1"})), 2, params, {.name = "out"});
  Tensor cost = softmax_cross_entropy(logits, labels);
  Updates step = optim::momentum(params.trainable, grad(cost, params.trainable), {.lr = lr});
  averaging::MovingAverage ema = averaging::ema(params.trainable, step, 0.9);
  step.insert(step.end(), ema.updates.begin(), ema.updates.end());
  Function train_step = compile({X, labels}, {cost, logits}, step);
  Function evaluate = compile({X, labels}, {softmax_cross_entropy_rows(logits, labels), logits}, {}, {.training = false});
  train::Model model = train::model({.step = train_step, .evaluate = evaluate, .learning_rate = lr,
                                     .state = g.shared_variables(), .classes = 2, .averages = &ema});

  // Class 1 when the first feature is above 0.5: learnable.
  data::LabelledImages set = synthetic(400, 8, 2);
  for (std::int64_t i = 0; i < 400; ++i) set.labels.set(i, set.images.get(i * 8) > 0.5 ? 1.0 : 0.0);
  data::Split split = data::split(set, 100, 1);
  train::History h = train::fit(model, split.train, split.validation,
                                {.epochs = 30, .batch_size = 16, .learning_rate = 0.1, .evaluate_averages = true,
                                 .progress = train::ProgressStyle::off});
  CHECK(lr.get_value().item<float>() == 0.1f);  // the loop set the rate through the shared variable
  CHECK(h.epochs.back().validation_accuracy > 0.9);
  CHECK(h.epochs.back().validation_loss < h.epochs.front().validation_loss);
  // The averages were swapped back after each validation: the parameters are not their averages.
  CHECK(std::memcmp(params.trainable[0].get_value().raw(), ema.averages[0].get_value().raw(),
                    params.trainable[0].get_value().nbytes()) != 0);
  CHECK_THROWS_WITH(train::model({.step = train_step, .evaluate = evaluate, .learning_rate = X}),
                    Contains("the learning rate must be a scalar shared variable"));
}
