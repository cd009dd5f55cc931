// psy report: paper-ready tables (Markdown, LaTeX, CSV) and SVG plots from run folders.
#include <filesystem>
#include <iostream>
#include <set>

#include "libpsy/report/metric_table.h"
#include "libpsy/report/run_results.h"
#include "libpsy/report/significance.h"
#include "libpsy/report/svg_plot.h"
#include "libpsy/core/atomic_file.h"
#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/core/file_lock.h"
#include "libpsy/run/model_source.h"
#include "libpsy/run/run_folder.h"
#include "trainers/commands.h"

namespace fs = std::filesystem;

namespace psy::cli {

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

report::MetricTable build_table(const std::vector<report::RunResults>& runs, const std::vector<std::string>& columns,
                                int baseline, int resamples, uint64_t seed, double alpha) {
  report::MetricTable t;
  t.columns = columns;
  t.baseline_row = baseline;
  t.alpha = alpha;
  for (size_t r = 0; r < runs.size(); ++r) {
    t.rows.push_back(runs[r].name);
    t.row_tasks.push_back(runs[r].task);
    std::vector<report::Cell> row;
    for (const auto& c : columns) {
      report::Cell cell;
      auto it = runs[r].metrics.find(c);
      if (it != runs[r].metrics.end()) {
        cell.present = true;
        cell.value = it->second.value;
        cell.has_ci = it->second.has_ci;
        cell.lo = it->second.lo;
        cell.hi = it->second.hi;
      }
      if (baseline >= 0 && static_cast<int>(r) != baseline) {
        auto a = runs[r].per_example.find(c);
        auto b = runs[baseline].per_example.find(c);
        if (a != runs[r].per_example.end() && b != runs[baseline].per_example.end()) {
          auto test = report::paired_bootstrap(a->second, b->second, resamples, seed);
          if (test.pairs > 0) {
            cell.has_p = true;
            cell.p_value = test.p_value;
          }
        }
      }
      row.push_back(cell);
    }
    t.cells.push_back(std::move(row));
  }
  return t;
}

void write_plots(const std::vector<report::RunResults>& runs, const std::vector<std::string>& columns,
                 const std::string& dir, std::vector<std::string>& written) {
  make_dirs(dir);
  report::LineChart loss;
  loss.title = "Training and evaluation loss";
  loss.x_label = "optimizer step";
  loss.y_label = "loss";
  for (const auto& r : runs) {
    auto add = [&loss, &r](const std::vector<std::pair<double, double>>& pts, const std::string& suffix, bool dashed) {
      if (pts.empty()) return;
      report::Series s;
      s.name = r.name + suffix;
      s.dashed = dashed;
      for (const auto& [x, y] : pts) s.x.push_back(x), s.y.push_back(y);
      loss.series.push_back(std::move(s));
    };
    add(r.train_loss, " (train)", false);
    add(r.eval_loss, " (eval)", true);
  }
  if (!loss.series.empty()) {
    write_file_atomic(dir + "/loss.svg", report::render_svg(loss));
    written.push_back(dir + "/loss.svg");
  }
  report::BarChart bars;
  bars.title = "Metrics (95% confidence intervals)";
  bars.y_label = "score";
  for (const auto& c : columns) {
    for (const auto& r : runs) {
      auto it = r.metrics.find(c);
      if (it == r.metrics.end()) continue;
      report::Bar b;
      b.group = report::metric_title(c);
      b.name = r.name;
      b.value = it->second.value;
      b.lo = it->second.has_ci ? it->second.lo : b.value;
      b.hi = it->second.has_ci ? it->second.hi : b.value;
      bars.bars.push_back(b);
    }
  }
  if (!bars.bars.empty()) {
    write_file_atomic(dir + "/metrics.svg", report::render_svg(bars));
    written.push_back(dir + "/metrics.svg");
  }
}

}  // namespace

int cmd_report(const Args& args) {
  ArgParser p("psy report",
              "Tabulate evaluation results of several runs like the Psy-Insight paper's Table 5 (one row per\n"
              "run, best value per column in bold) and draw loss curves and metric bars as SVG files.");
  p.positional("RUN_DIR",
               "run folders (each with metrics.json from psy eval and/or log.jsonl from psy train); a checkpoint, "
               "adapter/ or model/ inside a run stands for its run (as --checkpoint resolves them in psy eval, generate, "
               "chat and merge)",
               true, true)
      .option("format", "md|latex|csv", "table format", "md")
      .option("metrics", "LIST", "comma-separated metric columns; empty = every metric present, paper order", "")
      .option("baseline", "RUN_DIR", "mark runs that differ significantly from this one (paired bootstrap)", "")
      .option("alpha", "P", "significance level of the mark", "0.05")
      .option("bootstrap", "N", "resamples of the paired bootstrap test", "1000")
      .option("seed", "N", "seed of the bootstrap resampling", "66")
      .flag("ci", "show 95% confidence intervals next to the values")
      .option("out", "FILE", "write the table to FILE instead of stdout", "")
      .option("plots", "DIR", "write loss.svg and metrics.svg to DIR; empty = no plots", "")
      .option("digits", "N", "decimals shown", "3");
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  const std::string format = a.get("format");
  if (format != "md" && format != "latex" && format != "csv") {
    throw Error("psy report: --format: " + expected_found("md, latex or csv", "'" + format + "'"));
  }
  std::vector<std::string> dirs;
  for (const auto& d : a.list("RUN_DIR")) dirs.push_back(run_folder_of(d));
  int baseline = -1;
  if (!a.get("baseline").empty()) {
    const std::string base = run_folder_of(a.get("baseline"));
    for (size_t i = 0; i < dirs.size(); ++i) {
      if (dirs[i] == base) baseline = static_cast<int>(i);
    }
    if (baseline < 0) {
      dirs.insert(dirs.begin(), base);
      baseline = 0;
    }
  }
  // Writing into a run folder (the table or the plots) takes its lock: one writing process per run.
  std::vector<FolderLock> locks;
  std::set<std::string> locked;
  for (const std::string& output : {a.get("out"), a.get("plots")}) {
    const std::string run = output.empty() ? "" : enclosing_run_folder(output);
    if (!run.empty() && locked.insert(fs::weakly_canonical(run).string()).second)
      locks.push_back(RunFolder(run).lock("psy report"));
  }
  std::vector<report::RunResults> runs;
  for (const auto& d : dirs) runs.push_back(report::read_run_folder(d));
  // Runs with only a training log (no metrics.json) appear in the loss plot, not in the table.
  std::vector<report::RunResults> scored;
  int scored_baseline = -1;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].metrics.empty()) continue;
    if (static_cast<int>(i) == baseline) scored_baseline = static_cast<int>(scored.size());
    scored.push_back(runs[i]);
  }
  if (baseline >= 0 && scored_baseline < 0) {
    throw Error("psy report: --baseline " + a.get("baseline") + " has no metrics.json (run psy eval on it first)");
  }
  std::vector<std::string> columns = split_list(a.get("metrics"));
  if (columns.empty()) {
    std::set<std::string> all;
    for (const auto& r : scored) {
      for (const auto& [k, v] : r.metrics) all.insert(k);
    }
    columns = report::paper_column_order({all.begin(), all.end()});
  }
  auto table = build_table(scored, columns, scored_baseline, static_cast<int>(a.get_long("bootstrap")),
                           static_cast<uint64_t>(a.get_long("seed")), a.get_double("alpha"));
  table.digits = static_cast<int>(a.get_long("digits"));
  std::string text = format == "md"      ? report::to_markdown(table, a.flag("ci"))
                     : format == "latex" ? report::to_latex(table, a.flag("ci"))
                                         : report::to_csv(table);
  if (a.get("out").empty()) {
    std::cout << text;
  } else {
    write_file_atomic(a.get("out"), text);
    std::cerr << "psy report: wrote " << a.get("out") << "\n";
  }
  if (!a.get("plots").empty()) {
    std::vector<std::string> written;
    write_plots(runs, columns, a.get("plots"), written);
    for (const auto& w : written) std::cerr << "psy report: wrote " << w << "\n";
  }
  return 0;
}

}  // namespace psy::cli
