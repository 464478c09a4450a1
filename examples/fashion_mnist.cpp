// Fashion-MNIST with loom: loads the data set (Debian package dataset-fashion-mnist, or $LOOM_DATA), builds a
// logistic regression, an MLP or a CNN from the flags (fashion_mnist_model.h), compiles its training step and its
// evaluation, trains with train::fit (progress, validation, schedules, early stopping, checkpoints), then reports
// the test accuracy and where the learning curves, the checkpoint and the IR dumps went.
//
//   build/examples/fashion_mnist                        # the README's main job: the MLP, Adam (cosine), dropout 0.2
//   build/examples/fashion_mnist --help                 # every flag

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <CLI/CLI.hpp>
#include <loom/loom.h>

#include "fashion_mnist_model.h"

using namespace loom;

namespace {

struct Flags {
  models::FashionConfig model;
  std::int64_t epochs = 20, train_size = 0, validation = 5000, threads = 0, early_stopping = 0;
  std::int64_t stop_after_steps = 0;
  std::string lr_schedule = "cosine", augment, out = "out/fashion_mnist", dump_ir, checkpoint, progress = "auto";
  bool resume = false, test_each_epoch = false;
};

/// --augment "noise=0.1,flip,shift=2": each part with its default when no value is given.
data::Augmentation parse_augmentation(const std::string& text) {
  data::Augmentation a;
  std::stringstream parts(text);
  for (std::string part; std::getline(parts, part, ',');) {
    std::string name = part.substr(0, part.find('=')), value = part.find('=') == std::string::npos ? "" : part.substr(part.find('=') + 1);
    try {
      if (name == "noise") a.noise = value.empty() ? 0.1 : std::stod(value);
      else if (name == "flip" && value.empty()) a.flip = true;
      else if (name == "shift") a.max_shift = value.empty() ? 2 : std::stoll(value);
      else throw std::invalid_argument(part);
    } catch (const std::logic_error&) {
      throw CLI::ValidationError("--augment", "'" + part + "' is not noise[=sigma], flip or shift[=pixels]");
    }
    if (!(a.noise >= 0) || std::isinf(a.noise) || a.max_shift < 0 || a.max_shift > 27)  // NaN fails the first test
      throw CLI::ValidationError("--augment", "'" + part + "' is out of range (noise finite and >= 0, shift in [0, 27])");
  }
  return a;
}

/// A number above (or, with `zero_allowed`, at least) zero; CLI11's own check prints the largest double.
CLI::Validator positive(bool zero_allowed = false) {
  return CLI::Validator(
      [zero_allowed](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value)) return "'" + text + "' is not a number";
        if (value > 0 || (zero_allowed && value == 0)) return "";
        return "'" + text + "' must be " + (zero_allowed ? "at least 0" : "above 0");
      },
      zero_allowed ? "NUMBER >= 0" : "NUMBER > 0");
}

void add_flags(CLI::App& app, Flags& f) {
  models::FashionConfig& m = f.model;
  auto probability = CLI::Range(0.0, 0.999);
  app.add_option("--model", m.model, "logreg, mlp or cnn (conv32-bn-pool, conv64-bn-pool, fc128, dropout)")
      ->check(CLI::IsMember({"logreg", "mlp", "cnn"}))
      ->capture_default_str();
  app.add_option("--hidden", m.hidden, "hidden layer widths of the MLP, e.g. --hidden 256,256")
      ->delimiter(',')->check(positive())->capture_default_str();
  app.add_option("--optimizer", m.optimizer, "optimizer")->check(CLI::IsMember(models::kOptimizers))->capture_default_str();
  app.add_option("--lr", m.lr, "initial learning rate")->check(positive())->capture_default_str();
  app.add_option("--lr-schedule", f.lr_schedule, "constant, step (x0.5 every 10 epochs), cosine or plateau (x0.5 after 2 epochs)")
      ->check(CLI::IsMember({"constant", "step", "cosine", "plateau"}))->capture_default_str();
  app.add_option("--epochs", f.epochs, "epochs")->check(positive(true))->capture_default_str();
  app.add_option("--batch", m.batch, "minibatch size")->check(CLI::Range(1, 65536))->capture_default_str();
  app.add_option("--dropout", m.dropout, "dropout rate after each hidden layer")->check(probability)->capture_default_str();
  app.add_option("--weight-decay", m.weight_decay, "L2 weight decay (a gradient term)")->check(positive(true));
  app.add_option("--l1", m.l1, "L1 penalty (a loss term)")->check(positive(true));
  app.add_option("--init", m.init, "weight initialization")->check(CLI::IsMember(models::kInits))->capture_default_str();
  app.add_option("--init-std", m.init_std, "standard deviation of --init normal")->check(positive())->capture_default_str();
  app.add_option("--activation", m.activation, "hidden activation")->check(CLI::IsMember(models::kActivations))->capture_default_str();
  app.add_flag("--batchnorm", m.batchnorm, "batch norm before each hidden activation");
  app.add_option("--clip-value", m.clip_value, "clip each gradient element to [-v, v]")->check(positive());
  app.add_option("--clip-norm", m.clip_norm, "clip the gradients' global norm")->check(positive());
  app.add_option("--grad-noise", m.grad_noise, "eta of annealed Gaussian gradient noise")->check(positive());
  app.add_option("--label-smoothing", m.label_smoothing, "label smoothing of the cross-entropy")->check(probability);
  app.add_option("--mixup", m.mixup, "alpha of mixup")->check(positive());
  app.add_option("--augment", f.augment, "augmentations: noise[=sigma],flip,shift[=pixels]");
  app.add_option("--ema", m.ema, "decay of the parameters' moving average, used for evaluation")->check(CLI::Range(0.0, 0.99999));
  app.add_option("--early-stopping", f.early_stopping, "stop after this many epochs without a better validation loss")
      ->check(positive());
  app.add_option("--train-size", f.train_size, "train on the first N examples only (e.g. 500, to over-fit)")->check(positive());
  app.add_option("--validation", f.validation, "examples held out of the training set for validation")
      ->check(CLI::Range(1, 59999))->capture_default_str();
  app.add_option("--threads", f.threads, "worker threads (0: all)")->check(CLI::Range(0, 256))->capture_default_str();
  app.add_option("--seed", m.seed, "seed of the weights, data order, dropout and augmentation")->capture_default_str();
  app.add_option("--out", f.out, "directory for the curves, the checkpoint and the IR dumps")->capture_default_str();
  app.add_option("--dump-ir", f.dump_ir, "directory for the IR before and after every pass (default: OUT/ir)");
  app.add_option("--checkpoint", f.checkpoint, "checkpoint file, saved after every epoch (default: OUT/checkpoint.loomckpt)");
  app.add_flag("--resume", f.resume, "continue the run saved in the checkpoint");
  app.add_flag("--test-each-epoch", f.test_each_epoch, "also report the test accuracy after every epoch (for the record)");
  app.add_option("--stop-after-steps", f.stop_after_steps, "stop (saving the checkpoint) after this many steps in all")
      ->check(positive());
  app.add_option("--progress", f.progress, "auto (a bar on a terminal), bar, lines or off")
      ->check(CLI::IsMember({"auto", "bar", "lines", "off"}))->capture_default_str();
}

train::ProgressStyle progress_style(const std::string& name) {
  if (name == "bar") return train::ProgressStyle::bar;
  if (name == "lines") return train::ProgressStyle::lines;
  if (name == "off") return train::ProgressStyle::off;
  return train::ProgressStyle::automatic;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int run(const Flags& f, const data::Augmentation& augmentation) {
  const models::FashionConfig& c = f.model;
  std::filesystem::create_directories(f.out);
  std::string dump_dir = f.dump_ir.empty() ? f.out + "/ir" : f.dump_ir;
  std::string checkpoint = f.checkpoint.empty() ? f.out + "/checkpoint.loomckpt" : f.checkpoint;

  auto start = std::chrono::steady_clock::now();
  data::Split sets = data::split(data::fashion_mnist(/*train=*/true), f.validation, c.seed);
  if (f.train_size > 0) sets.train = data::head(sets.train, std::min(f.train_size, sets.train.images.shape()[0]));
  data::LabelledImages test = data::fashion_mnist(/*train=*/false);
  std::printf("Fashion-MNIST from %s: %lld training, %lld validation, %lld test examples (%.2f s)\n",
              data::fashion_mnist_directory().c_str(), static_cast<long long>(sets.train.images.shape()[0]),
              static_cast<long long>(sets.validation.images.shape()[0]), static_cast<long long>(test.images.shape()[0]),
              seconds_since(start));

  start = std::chrono::steady_clock::now();
  models::FashionModel m = models::build_fashion_model(c);
  CompileOptions options{.dump_dir = dump_dir, .threads = static_cast<int>(f.threads), .name = "train_step"};
  std::vector<Tensor> step_inputs{m.X, m.labels};
  if (c.mixup > 0) step_inputs = {m.X, m.labels, m.labels_b, m.lambda};
  Function step = compile(step_inputs, {m.cost, m.logits}, m.updates, options);
  options.name = "evaluate";
  options.training = false;
  Function evaluate = compile({m.X, m.labels}, {m.losses, m.logits}, {}, options);
  std::printf("compiled the training step and the evaluation in %.2f s; the training step's compile report:\n%s\n",
              seconds_since(start), step.report().c_str());

  train::Model model = train::model({.step = step, .evaluate = evaluate, .learning_rate = m.learning_rate,
                                     .state = m.graph->shared_variables(), .classes = 10,
                                     .averages = m.averages ? &*m.averages : nullptr});
  train::FitOptions fit{.epochs = f.epochs, .batch_size = c.batch, .seed = c.seed, .learning_rate = c.lr,
                        .schedule = {.kind = *train::parse_schedule(f.lr_schedule)},
                        .early_stopping = f.early_stopping, .augmentation = augmentation, .mixup_alpha = c.mixup,
                        .evaluate_averages = c.ema > 0, .checkpoint = checkpoint, .resume = f.resume,
                        .stop_after_steps = f.stop_after_steps, .progress = progress_style(f.progress)};
  if (f.test_each_epoch)  // never used for a decision: the record of how test accuracy grows
    fit.callbacks.push_back([&](const train::EpochRecord& r) {
      train::Metrics m = train::evaluate(model, test, c.batch);
      std::printf("epoch %3lld test loss %.4f acc %6.2f%%\n", static_cast<long long>(r.epoch), m.loss(), 100 * m.accuracy());
      return true;
    });
  start = std::chrono::steady_clock::now();
  train::History history = train::fit(model, sets.train, sets.validation, fit);
  double training_seconds = seconds_since(start);

  std::string csv = f.out + "/curves.csv", svg = f.out + "/curves.svg";
  train::write_csv(csv, history);
  train::write_svg(svg, history, "Fashion-MNIST " + c.model + " (" + c.optimizer + ")");
  if (history.interrupted) {
    std::printf("stopped after %lld steps; continue with --resume (checkpoint %s)\n",
                static_cast<long long>(history.steps), checkpoint.c_str());
    return 0;
  }
  if (c.ema > 0) model.swap_averages();
  train::Metrics result = train::evaluate(model, test, c.batch);
  if (c.ema > 0) model.swap_averages();
  double epoch_seconds = 0;
  for (const train::EpochRecord& r : history.epochs) epoch_seconds += r.seconds;
  bool restored = history.stopped_early && history.best_epoch != static_cast<std::int64_t>(history.epochs.size());
  std::string weights = restored ? fmt::format("the weights of epoch {}", history.best_epoch) : std::string("the final weights");
  if (c.ema > 0) weights = "the moving averages of " + weights;
  std::printf("\ntest accuracy %.2f%%, test loss %.4f (%s; best validation loss at epoch %lld%s)\n",
              100 * result.accuracy(), result.loss(), weights.c_str(), static_cast<long long>(history.best_epoch),
              history.stopped_early ? ", stopped early" : "");
  std::printf("%zu epochs in %.1f s of training (%.2f s per epoch, %lld steps), %.1f s in this process\n",
              history.epochs.size(), epoch_seconds, history.epochs.empty() ? 0.0 : epoch_seconds / static_cast<double>(history.epochs.size()),
              static_cast<long long>(history.steps), training_seconds);
  std::printf("learning curves: %s and %s\ncheckpoint: %s\nIR dumps: %s/train_step/ and %s/evaluate/\n", csv.c_str(),
              svg.c_str(), checkpoint.c_str(), dump_dir.c_str(), dump_dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Trains a classifier of Fashion-MNIST with loom."};
  Flags flags;
  add_flags(app, flags);
  data::Augmentation augmentation;
  try {
    app.parse(argc, argv);
    augmentation = parse_augmentation(flags.augment);
    if (flags.model.mixup > 0 && flags.model.label_smoothing > 0)
      throw CLI::ValidationError("--mixup", "mixup and label smoothing do not combine; choose one");
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run(flags, augmentation);
  } catch (const Error& e) {
    std::fprintf(stderr, "fashion_mnist: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_mnist: %s\n", e.what());
  }
  return 1;
}
