#include "loom/runtime/train/history.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>

#include <fmt/format.h>

#include "loom/ir/error.h"

namespace loom::train {

namespace {

std::ofstream open_for_writing(const std::string& path) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw Error(fmt::format("cannot write {}", path));
  return out;
}

/// Ticks at 1, 2 or 5 × 10^k covering [low, high] with about five intervals.
std::vector<double> nice_ticks(double low, double high) {
  double raw = (high - low) / 5, magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude * (raw / magnitude < 1.5 ? 1 : raw / magnitude < 3.5 ? 2 : raw / magnitude < 7.5 ? 5 : 10);
  std::vector<double> ticks;
  for (double t = std::ceil(low / step - 1e-9) * step; t <= high + step * 1e-9; t += step) ticks.push_back(t);
  return ticks;
}

/// `text` with the characters XML gives meaning to written as entities (titles come from users).
std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

struct Series {
  const char* label;
  const char* colour;
  const char* dash;
  std::function<double(const EpochRecord&)> value;
};

/// One panel: the series over the epochs, in a box at (left, top) of the given size. The SVG is written by hand:
/// a line plot needs a few elements, and no plotting library for C++ is packaged in Debian 12.
void panel(std::string& svg, const History& h, const std::string& title, const std::vector<Series>& series,
           bool legend_below, double left, double top, double width, double height) {
  double low = std::numeric_limits<double>::infinity(), high = -low;
  for (const EpochRecord& r : h.epochs)
    for (const Series& s : series)
      if (double v = s.value(r); std::isfinite(v)) low = std::min(low, v), high = std::max(high, v);
  if (!std::isfinite(low)) low = 0, high = 1;
  if (high - low < 1e-9 * std::max(1.0, std::abs(high))) low -= 0.5, high += 0.5;
  double pad = (high - low) * 0.05;
  low -= pad, high += pad;
  double first = 1, last = std::max<double>(2, static_cast<double>(h.epochs.size()));
  auto x = [&](double epoch) { return left + (epoch - first) / (last - first) * width; };
  auto y = [&](double v) { return top + height - (v - low) / (high - low) * height; };

  svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="white" stroke="#333"/>)" "\n", left, top, width, height);
  svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle" font-size="14">{}</text>)" "\n", left + width / 2, top - 10, title);
  for (double t : nice_ticks(low, high)) {
    svg += fmt::format(R"(<line x1="{0}" x2="{1}" y1="{2:.1f}" y2="{2:.1f}" stroke="#ddd"/>)"
                       R"(<text x="{3}" y="{4:.1f}" text-anchor="end" font-size="11">{5:.4g}</text>)" "\n",
                       left, left + width, y(t), left - 6, y(t) + 4, t);
  }
  for (double t : nice_ticks(first, last)) {
    if (t != std::floor(t)) continue;  // epochs are whole
    svg += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" stroke="#333"/>)"
                       R"(<text x="{0:.1f}" y="{3}" text-anchor="middle" font-size="11">{4}</text>)" "\n",
                       x(t), top + height, top + height + 5, top + height + 18, t);
  }
  svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle" font-size="12">epoch</text>)" "\n", left + width / 2, top + height + 36);
  if (h.best_epoch > 0)
    svg += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" stroke="#888" stroke-dasharray="2,3"/>)" "\n",
                       x(static_cast<double>(h.best_epoch)), top, top + height);
  // The legend, in a white box in the corner the curves usually leave free (loss falls, accuracy rises).
  double legend_top = legend_below ? top + height - 12 - 18 * static_cast<double>(series.size()) : top + 6;
  std::string legend = fmt::format(R"(<rect x="{}" y="{}" width="112" height="{}" fill="white" stroke="#bbb"/>)" "\n",
                                   left + width - 124, legend_top, 18 * static_cast<double>(series.size()) + 6);
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    std::string points;
    for (const EpochRecord& r : h.epochs) {
      double v = s.value(r);
      if (!std::isfinite(v)) continue;
      points += fmt::format("{:.1f},{:.1f} ", x(static_cast<double>(r.epoch)), y(v));
      svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"/>)" "\n", x(static_cast<double>(r.epoch)), y(v), s.colour);
    }
    svg += fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}"/>)" "\n",
                       points, s.colour, s.dash);
    double ly = legend_top + 12 + 18 * static_cast<double>(k);
    legend += fmt::format(R"(<line x1="{0}" x2="{1}" y1="{2}" y2="{2}" stroke="{3}" stroke-width="2" stroke-dasharray="{4}"/>)"
                          R"(<text x="{5}" y="{6}" font-size="12">{7}</text>)" "\n",
                          left + width - 120, left + width - 96, ly, s.colour, s.dash, left + width - 90, ly + 4, s.label);
  }
  svg += legend;  // last: above the curves
}

}  // namespace

void write_csv(const std::string& path, const History& history) {
  std::ofstream out = open_for_writing(path);
  out << "epoch,train_loss,train_accuracy,validation_loss,validation_accuracy,learning_rate,seconds\n";
  for (const EpochRecord& r : history.epochs)
    out << fmt::format("{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6g},{:.3f}\n", r.epoch, r.train_loss, r.train_accuracy,
                       r.validation_loss, r.validation_accuracy, r.learning_rate, r.seconds);
  if (!out) throw Error(fmt::format("cannot write {}", path));
}

void write_svg(const std::string& path, const History& history, const std::string& title) {
  const double width = 960, height = 400;
  std::string svg = fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" viewBox="0 0 {0} {1}" font-family="sans-serif">)" "\n"
                                R"(<rect width="100%" height="100%" fill="white"/>)" "\n"
                                R"(<text x="{2}" y="24" text-anchor="middle" font-size="16">{3}</text>)" "\n",
                                width, height, width / 2, escaped(title));
  panel(svg, history, "loss",
        {{"train", "#1f77b4", "none", [](const EpochRecord& r) { return r.train_loss; }},
         {"validation", "#ff7f0e", "6,3", [](const EpochRecord& r) { return r.validation_loss; }}},
        false, 70, 60, 380, 280);
  panel(svg, history, "accuracy (%)",
        {{"train", "#1f77b4", "none", [](const EpochRecord& r) { return 100 * r.train_accuracy; }},
         {"validation", "#ff7f0e", "6,3", [](const EpochRecord& r) { return 100 * r.validation_accuracy; }}},
        true, 550, 60, 380, 280);
  svg += "</svg>\n";
  std::ofstream out = open_for_writing(path);
  out << svg;
  if (!out) throw Error(fmt::format("cannot write {}", path));
}

}  // namespace loom::train
