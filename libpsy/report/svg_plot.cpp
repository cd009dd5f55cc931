#include "libpsy/report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <map>

namespace psy::report {

namespace {

// A colour-blind-friendly palette (Okabe-Ito).
const char* kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"};
constexpr int kColourCount = 8;

struct Frame {
  double left = 70, right = 170, top = 40, bottom = 60;  // margins; legend on the right (see fit_legend)
  int width, height;
  double x0, x1, y0, y1;
  double px(double x) const { return left + (x - x0) / (x1 - x0) * (width - left - right); }
  double py(double y) const { return height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom); }
};

std::string fmt_tick(double v) {
  if (v == 0) return "0";
  double a = std::fabs(v);
  if (a >= 1e5 || a < 1e-3) return fmt::format("{:.1e}", v);
  std::string s = fmt::format("{:.4f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string header(int width, int height, const std::string& title) {
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      width, height);
  out += fmt::format("<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
                     width / 2, xml_escape(title));
  return out;
}

void axes(std::string& out, const Frame& f, const std::vector<double>& yt, const std::string& x_label,
          const std::string& y_label) {
  for (double t : yt) {
    double y = f.py(t);
    out += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e0e0e0\"/>\n", f.left, y,
                       f.width - f.right, y);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", f.left - 6, y + 4, fmt_tick(t));
  }
  out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#333\"/>\n", f.left,
                     f.top, f.height - f.bottom);
  out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#333\"/>\n", f.left,
                     f.height - f.bottom, f.width - f.right);
  if (!x_label.empty()) {
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                       (f.left + f.width - f.right) / 2, f.height - 15, xml_escape(x_label));
  }
  if (!y_label.empty()) {
    out += fmt::format("<text transform=\"translate(16 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                       (f.top + f.height - f.bottom) / 2, xml_escape(y_label));
  }
}

void legend(std::string& out, const Frame& f, const std::vector<std::string>& names, const std::vector<bool>& dashed) {
  double x = f.width - f.right + 14, y = f.top + 8;
  for (size_t i = 0; i < names.size(); ++i) {
    const char* c = kColours[i % kColourCount];
    out += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"3\"{}/>\n",
                       x, y + 18 * i, x + 22, y + 18 * i, c, dashed[i] ? " stroke-dasharray=\"5 3\"" : "");
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", x + 28, y + 18 * i + 4, xml_escape(names[i]));
  }
}

// Widens the right margin (and the picture) so that the longest legend label fits.
void fit_legend(Frame& f, const std::vector<std::string>& names) {
  size_t longest = 0;
  for (const auto& n : names) longest = std::max(longest, n.size());
  const double need = 14 + 28 + 7.2 * static_cast<double>(longest) + 10;
  if (need > f.right) {
    f.width += static_cast<int>(need - f.right);
    f.right = need;
  }
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target_count) {
  if (!(hi > lo)) hi = lo + 1;
  double raw = (hi - lo) / std::max(1, target_count);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  std::vector<double> ticks;
  for (double t = std::floor(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

std::string render_svg(const LineChart& chart, int width, int height) {
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const auto& s : chart.series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      xmin = std::min(xmin, s.x[i]), xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, s.y[i]), ymax = std::max(ymax, s.y[i]);
    }
  }
  if (!std::isfinite(xmin)) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  if (xmax == xmin) xmax = xmin + 1;
  auto yt = nice_ticks(ymin, ymax);
  Frame f;
  f.width = width, f.height = height;
  f.x0 = xmin, f.x1 = xmax, f.y0 = yt.front(), f.y1 = std::max(yt.back(), ymax);
  if (f.y1 == f.y0) f.y1 = f.y0 + 1;
  std::vector<std::string> labels;
  for (const auto& s : chart.series) labels.push_back(s.name);
  fit_legend(f, labels);
  width = f.width;
  std::string out = header(width, height, chart.title);
  axes(out, f, yt, chart.x_label, chart.y_label);
  for (double t : nice_ticks(xmin, xmax)) {
    if (t < xmin - 1e-12 || t > xmax + 1e-12) continue;
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", f.px(t),
                       height - f.bottom + 16, fmt_tick(t));
  }
  std::vector<std::string> names;
  std::vector<bool> dashed;
  for (size_t k = 0; k < chart.series.size(); ++k) {
    const auto& s = chart.series[k];
    std::string points;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      points += fmt::format("{:.1f},{:.1f} ", f.px(s.x[i]), f.py(s.y[i]));
    }
    const char* c = kColours[k % kColourCount];
    out += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} points=\"{}\"/>\n", c,
                       s.dashed ? " stroke-dasharray=\"5 3\"" : "", points);
    if (s.x.size() == 1) {
      out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", f.px(s.x[0]), f.py(s.y[0]), c);
    }
    names.push_back(s.name);
    dashed.push_back(s.dashed);
  }
  legend(out, f, names, dashed);
  return out + "</svg>\n";
}

std::string render_svg(const BarChart& chart, int width, int height) {
  std::vector<std::string> groups, names;
  for (const auto& b : chart.bars) {
    if (std::find(groups.begin(), groups.end(), b.group) == groups.end()) groups.push_back(b.group);
    if (std::find(names.begin(), names.end(), b.name) == names.end()) names.push_back(b.name);
  }
  double ymax = 0, ymin = 0;
  for (const auto& b : chart.bars) {
    ymax = std::max({ymax, b.value, b.hi});
    ymin = std::min({ymin, b.value, b.lo});
  }
  auto yt = nice_ticks(ymin, ymax > ymin ? ymax : ymin + 1);
  Frame f;
  f.width = width, f.height = height;
  f.x0 = 0, f.x1 = std::max<size_t>(groups.size(), 1);
  f.y0 = yt.front(), f.y1 = std::max(yt.back(), ymax);
  if (f.y1 == f.y0) f.y1 = f.y0 + 1;
  fit_legend(f, names);
  width = f.width;
  std::string out = header(width, height, chart.title);
  axes(out, f, yt, "", chart.y_label);
  const double group_w = (f.px(1) - f.px(0)) * 0.8;
  const double bar_w = group_w / std::max<size_t>(names.size(), 1);
  for (size_t g = 0; g < groups.size(); ++g) {
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", f.px(g + 0.5),
                       height - f.bottom + 16, xml_escape(groups[g]));
  }
  for (const auto& b : chart.bars) {
    size_t g = std::find(groups.begin(), groups.end(), b.group) - groups.begin();
    size_t k = std::find(names.begin(), names.end(), b.name) - names.begin();
    double x = f.px(g + 0.1) + bar_w * k;
    double y_top = f.py(std::max(b.value, 0.0)), y_base = f.py(std::min(b.value, 0.0));
    out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"><title>{} {}: {}</title></rect>\n",
                       x + 1, y_top, std::max(bar_w - 2, 1.0), std::max(y_base - y_top, 0.5), kColours[k % kColourCount],
                       xml_escape(b.name), xml_escape(b.group), fmt_tick(b.value));
    if (b.hi > b.lo) {
      double cx = x + bar_w / 2;
      out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#222\" stroke-width=\"1.5\"/>\n",
                         cx, f.py(b.lo), f.py(b.hi));
      for (double v : {b.lo, b.hi}) {
        out += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#222\" stroke-width=\"1.5\"/>\n",
                           cx - 4, f.py(v), cx + 4, f.py(v));
      }
    }
  }
  legend(out, f, names, std::vector<bool>(names.size(), false));
  return out + "</svg>\n";
}

}  // namespace psy::report
