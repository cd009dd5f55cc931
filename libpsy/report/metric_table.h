// A table of metric values, one row per run and one column per metric, rendered like the
// Psy-Insight paper's Table 5: Markdown, LaTeX (booktabs) or CSV; best value per column in bold;
// optional 95% confidence intervals; a dagger where a run differs significantly from the baseline.
#pragma once
#include <string>
#include <vector>

namespace psy::report {

struct Cell {
  bool present = false;
  double value = 0;
  bool has_ci = false;
  double lo = 0, hi = 0;
  bool has_p = false;   // paired bootstrap p-value against the baseline row
  double p_value = 1;
};

struct MetricTable {
  std::vector<std::string> columns;       // metric keys, e.g. "bertscore_p", "bleu1"
  std::vector<std::string> rows;          // run labels
  std::vector<std::string> row_tasks;     // task per row (may be empty)
  std::vector<std::vector<Cell>> cells;   // [row][column]
  int baseline_row = -1;                  // -1: no baseline
  double alpha = 0.05;                    // significance level for the mark
  int digits = 3;
};

// "BERTScore-P" for "bertscore_p", "BLEU-1" for "bleu1", ...; unknown keys unchanged.
std::string metric_title(const std::string& key);
// Orders columns as the paper does (BERTScore-P, BLEU-1, BLEU-3, METEOR, ROUGE-L, Distinct-2), then the rest by name.
std::vector<std::string> paper_column_order(std::vector<std::string> keys);

std::string to_markdown(const MetricTable& t, bool show_ci);
std::string to_latex(const MetricTable& t, bool show_ci);
std::string to_csv(const MetricTable& t);

}  // namespace psy::report
