#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

#include "libpsy/report/metric_table.h"
#include "libpsy/report/significance.h"
#include "libpsy/report/svg_plot.h"
#include "tests/test_support.h"

using namespace psy::report;

namespace {

MetricTable two_runs() {
  MetricTable t;
  t.columns = {"bleu1", "meteor"};
  t.rows = {"base", "sft_dialog"};
  t.row_tasks = {"", "dialog"};
  Cell a{true, 0.101, true, 0.09, 0.11, false, 1};
  Cell b{true, 0.379, false, 0, 0, false, 1};
  Cell c{true, 0.270, true, 0.25, 0.29, true, 0.001};
  Cell d{true, 0.098, false, 0, 0, true, 0.4};
  t.cells = {{a, b}, {c, d}};
  t.baseline_row = 0;
  return t;
}

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::string f;
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      char ch = line[i];
      if (quoted) {
        if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') f += '"', ++i;
        else if (ch == '"') quoted = false;
        else f += ch;
      } else if (ch == '"') {
        quoted = true;
      } else if (ch == ',') {
        fields.push_back(f), f.clear();
      } else {
        f += ch;
      }
    }
    fields.push_back(f);
    rows.push_back(fields);
  }
  return rows;
}

void write_run(const std::string& dir, const std::string& name, const std::vector<double>& bleu) {
  nlohmann::json m;
  double mean = 0;
  for (double v : bleu) mean += v;
  mean /= static_cast<double>(bleu.size());
  m["name"] = name;
  m["task"] = "dialog";
  m["metrics"]["bleu1"] = {{"value", mean}, {"ci95", {mean - 0.01, mean + 0.01}}};
  psy::test::write_file(dir + "/metrics.json", m.dump());
  std::string preds, log;
  for (size_t i = 0; i < bleu.size(); ++i) {
    preds += nlohmann::json{{"id", "ex" + std::to_string(i)}, {"scores", {{"bleu1", bleu[i]}}}}.dump() + "\n";
  }
  psy::test::write_file(dir + "/predictions.jsonl", preds);
  for (int s = 1; s <= 5; ++s) log += nlohmann::json{{"step", s}, {"loss", 3.0 / s}}.dump() + "\n";
  psy::test::write_file(dir + "/log.jsonl", log);
}

}  // namespace

TEST_CASE("Markdown tables bold the best value per column and mark significant runs", "[report]") {
  std::string md = to_markdown(two_runs(), true);
  CHECK_THAT(md, Catch::Contains("| Run | Task | BLEU-1 | METEOR |"));
  CHECK_THAT(md, Catch::Contains("**0.270**†"));      // best BLEU-1, significant vs baseline
  CHECK_THAT(md, Catch::Contains("**0.379**"));       // best METEOR (the baseline)
  CHECK_THAT(md, Catch::Contains("| 0.098 |"));       // not best, not significant (p = 0.4)
  CHECK_THAT(md, Catch::Contains("[0.250, 0.290]"));
  CHECK_THAT(md, Catch::Contains("base (baseline)"));
}

TEST_CASE("LaTeX tables are balanced booktabs tables with escaped names", "[report]") {
  std::string tex = to_latex(two_runs(), false);
  CHECK_THAT(tex, Catch::Contains("\\begin{tabular}{lcrr}"));
  CHECK_THAT(tex, Catch::Contains("sft\\_dialog"));
  CHECK_THAT(tex, Catch::Contains("\\textbf{0.270}$^\\dagger$"));
  size_t open = 0, close = 0;
  for (char c : tex) open += c == '{', close += c == '}';
  CHECK(open == close);
  CHECK_THAT(tex, Catch::Contains("\\end{table}"));
}

TEST_CASE("CSV parses back to the exact values", "[report]") {
  auto rows = parse_csv(to_csv(two_runs()));
  REQUIRE(rows.size() == 3);
  CHECK(rows[0][0] == "run");
  CHECK(rows[0][2] == "bleu1");
  CHECK(rows[2][0] == "sft_dialog");
  CHECK(std::stod(rows[2][2]) == 0.270);
  CHECK(std::stod(rows[2][5]) == 0.001);
  CHECK(rows[1][5].empty());  // no p-value for the baseline
}

TEST_CASE("the paired bootstrap finds a real difference and not a fake one", "[report]") {
  std::map<std::string, double> a, b, c;
  for (int i = 0; i < 200; ++i) {
    std::string id = std::to_string(i);
    double noise = ((i * 37) % 100) / 1000.0;
    a[id] = 0.30 + noise;
    b[id] = 0.25 + noise + ((i % 7) - 3) / 500.0;
    c[id] = 0.30 + noise + ((i % 2) ? 0.01 : -0.01);
  }
  auto better = paired_bootstrap(a, b, 1000, 1);
  CHECK(better.pairs == 200);
  CHECK(better.p_value < 0.01);
  auto same = paired_bootstrap(a, c, 1000, 1);
  CHECK(same.p_value > 0.2);
  CHECK(paired_bootstrap(a, b, 1000, 1).p_value == better.p_value);  // seeded
}

TEST_CASE("SVG charts are standalone documents with one line per series and error bars", "[report]") {
  LineChart chart;
  chart.title = "loss <train>";
  chart.series = {{"a", {1, 2, 3}, {3, 2, 1}, false}, {"b", {1, 2, 3}, {2.5, 2, 1.5}, true}};
  std::string svg = render_svg(chart);
  CHECK_THAT(svg, Catch::StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK_THAT(svg, Catch::Contains("loss &lt;train&gt;"));
  size_t lines = 0;
  for (size_t p = svg.find("<polyline"); p != std::string::npos; p = svg.find("<polyline", p + 1)) ++lines;
  CHECK(lines == 2);
  BarChart bars;
  bars.bars = {{"BLEU-1", "run1", 0.2, 0.18, 0.22}, {"BLEU-1", "run2", 0.3, 0.3, 0.3}};
  std::string b = render_svg(bars);
  CHECK_THAT(b, Catch::Contains("<rect x="));
  CHECK_THAT(b, Catch::EndsWith("</svg>\n"));
  auto ticks = nice_ticks(0.0, 0.87);
  CHECK(ticks.front() == 0.0);
  CHECK(ticks.back() >= 0.8);
}

TEST_CASE("psy report tabulates run folders, marks the baseline test and draws plots", "[report][cli]") {
  psy::test::TempDir dir;
  std::vector<double> good, bad;
  for (int i = 0; i < 100; ++i) {
    good.push_back(0.4 + (i % 10) / 100.0);
    bad.push_back(0.2 + (i % 10) / 100.0);
  }
  std::system(("mkdir -p " + dir.file("r1") + " " + dir.file("r2")).c_str());
  write_run(dir.file("r1"), "baseline-run", bad);
  write_run(dir.file("r2"), "sft-run", good);
  auto r = psy::test::run_psy("report " + dir.file("r1") + " " + dir.file("r2") + " --baseline " + dir.file("r1") +
                              " --plots " + dir.file("plots"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("| sft-run | dialog | **0.445**† |"));
  CHECK_THAT(psy::test::read_file(dir.file("plots/loss.svg")), Catch::Contains("sft-run (train)"));
  CHECK_THAT(psy::test::read_file(dir.file("plots/metrics.svg")), Catch::Contains("BLEU-1"));
  auto csv = psy::test::run_psy("report --format csv " + dir.file("r2"));
  CHECK(parse_csv(csv.out).size() == 2);
  auto bad_dir = psy::test::run_psy("report " + dir.file("nope"));
  CHECK(bad_dir.exit_code == 2);
  CHECK_THAT(bad_dir.err, Catch::Contains("no such run folder"));
  auto bad_fmt = psy::test::run_psy("report --format docx " + dir.file("r2"));
  CHECK(bad_fmt.exit_code == 2);
}

TEST_CASE("the SVG plots render in a browser (headless Chromium, when installed)", "[report][browser]") {
  const char* chromium = "/usr/bin/chromium";
  if (access(chromium, X_OK) != 0) {
    WARN("SKIPPED: Chromium is not installed (apt-get install chromium to run this check)");
    return;
  }
  psy::test::TempDir dir;
  LineChart chart;
  chart.title = "Training and evaluation loss";
  chart.series = {{"run-with-a-long-name (train)", {1, 2, 3, 4}, {3, 2.2, 1.7, 1.5}, false},
                  {"run-with-a-long-name (eval)", {2, 4}, {2.5, 1.9}, true}};
  psy::test::write_file(dir.file("chart.svg"), render_svg(chart));
  psy::test::write_file(dir.file("blank.svg"),
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"440\">"
                        "<rect width=\"100%\" height=\"100%\" fill=\"white\"/></svg>");
  auto shoot = [&](const std::string& name) {
    std::string cmd = std::string(chromium) +
                      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                      " --disable-background-networking --disable-component-update --disable-sync"
                      " --user-data-dir=" + dir.file("profile-" + name) + " --window-size=900,480 --screenshot=" +
                      dir.file(name + ".png") + " file://" + dir.file(name + ".svg") + " >/dev/null 2>&1";
    CHECK(std::system(cmd.c_str()) == 0);
    return psy::test::read_file(dir.file(name + ".png"));
  };
  const std::string chart_png = shoot("chart");
  const std::string blank_png = shoot("blank");
  REQUIRE(chart_png.size() > 8);
  CHECK(chart_png.compare(1, 3, "PNG") == 0);
  // Lines, text and axes compress far worse than an empty page: the chart was drawn.
  CHECK(chart_png.size() > 3 * blank_png.size());
}
