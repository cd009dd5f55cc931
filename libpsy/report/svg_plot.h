// Standalone SVG charts a browser opens directly: line charts (loss curves of several runs) and
// bar charts with confidence intervals (metrics). No scripts, no external fonts or files.
#pragma once
#include <string>
#include <vector>

namespace psy::report {

struct Series {
  std::string name;
  std::vector<double> x, y;
  bool dashed = false;
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
};

struct Bar {
  std::string group;  // e.g. the metric
  std::string name;   // e.g. the run
  double value = 0;
  double lo = 0, hi = 0;  // confidence interval; lo == hi == value when absent
};

struct BarChart {
  std::string title, y_label;
  std::vector<Bar> bars;
};

std::string render_svg(const LineChart& chart, int width = 760, int height = 440);
std::string render_svg(const BarChart& chart, int width = 760, int height = 440);

// "Nice" axis ticks covering [lo, hi] (1, 2, 2.5 or 5 times a power of ten).
std::vector<double> nice_ticks(double lo, double hi, int target_count = 6);

// Escapes text for SVG/XML.
std::string xml_escape(const std::string& text);

}  // namespace psy::report
