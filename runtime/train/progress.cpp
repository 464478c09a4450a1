#include "loom/runtime/train/progress.h"

#include <unistd.h>

#include <string>

#include <fmt/format.h>

namespace loom::train {

namespace {

constexpr int kBarWidth = 30;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Progress::Progress(std::FILE* out, ProgressStyle style, std::int64_t epochs) : out_(out), style_(style), epochs_(epochs) {
  if (style_ == ProgressStyle::automatic) style_ = ::isatty(::fileno(out_)) ? ProgressStyle::bar : ProgressStyle::lines;
}

void Progress::start_epoch(std::int64_t epoch, std::int64_t batches) {
  epoch_ = epoch;
  batches_ = batches;
  epoch_start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::step(std::int64_t batch, double loss, double accuracy) {
  if (style_ != ProgressStyle::bar) return;
  auto now = std::chrono::steady_clock::now();
  if (batch < batches_ && bar_shown_ && now - last_draw_ < std::chrono::milliseconds(100)) return;  // 10 redraws a second
  last_draw_ = now;
  int filled = static_cast<int>(kBarWidth * batch / std::max<std::int64_t>(batches_, 1));
  fmt::print(out_, "\r\033[Kepoch {}/{} [{}{}] {}/{}  loss {:.4f}  acc {:.2f}%  {:.1f} s", epoch_, epochs_,
             std::string(static_cast<std::size_t>(filled), '#'), std::string(static_cast<std::size_t>(kBarWidth - filled), '.'),
             batch, batches_, loss, 100 * accuracy, seconds_since(epoch_start_));
  std::fflush(out_);
  bar_shown_ = true;
}

void Progress::clear_bar() {
  if (bar_shown_) fmt::print(out_, "\r\033[K");
  bar_shown_ = false;
}

void Progress::end_epoch(const EpochRecord& r, bool best) {
  if (style_ == ProgressStyle::off) return;
  clear_bar();
  fmt::print(out_, "epoch {:>3}/{}  train loss {:.4f} acc {:6.2f}%  val loss {:.4f} acc {:6.2f}%  lr {:.3g}  {:.2f} s{}\n",
             r.epoch, epochs_, r.train_loss, 100 * r.train_accuracy, r.validation_loss, 100 * r.validation_accuracy,
             r.learning_rate, r.seconds, best ? "  *" : "");
  std::fflush(out_);
}

void Progress::say(const std::string& line) {
  if (style_ == ProgressStyle::off) return;
  clear_bar();
  fmt::print(out_, "{}\n", line);
  std::fflush(out_);
}

}  // namespace loom::train
