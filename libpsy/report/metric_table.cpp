#include "libpsy/report/metric_table.h"

#include <algorithm>
#include <fmt/format.h>
#include <map>

namespace psy::report {

namespace {

const std::vector<std::pair<std::string, std::string>>& known_titles() {
  static const std::vector<std::pair<std::string, std::string>> t = {
      {"bertscore_p", "BERTScore-P"}, {"bertscore_r", "BERTScore-R"}, {"bertscore_f", "BERTScore-F"},
      {"bleu1", "BLEU-1"},           {"bleu2", "BLEU-2"},           {"bleu3", "BLEU-3"},
      {"bleu4", "BLEU-4"},           {"meteor", "METEOR"},          {"rougeL", "ROUGE-L"},
      {"distinct1", "Distinct-1"},   {"distinct2", "Distinct-2"},   {"distinct3", "Distinct-3"},
      {"ead", "EAD"},                {"cot_parse_rate", "CoT parsed"},
  };
  return t;
}

// Per column: the row index of the best (highest) value, or -1.
std::vector<int> best_rows(const MetricTable& t) {
  std::vector<int> best(t.columns.size(), -1);
  for (size_t c = 0; c < t.columns.size(); ++c) {
    for (size_t r = 0; r < t.rows.size(); ++r) {
      const Cell& cell = t.cells[r][c];
      if (!cell.present) continue;
      if (best[c] < 0 || cell.value > t.cells[best[c]][c].value) best[c] = static_cast<int>(r);
    }
  }
  return best;
}

bool significant(const MetricTable& t, size_t r, const Cell& cell) {
  return static_cast<int>(r) != t.baseline_row && cell.has_p && cell.p_value < t.alpha;
}

std::string latex_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '_' || c == '&' || c == '%' || c == '#' || c == '$' || c == '{' || c == '}') out += '\\';
    out += c;
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

bool has_tasks(const MetricTable& t) {
  return std::any_of(t.row_tasks.begin(), t.row_tasks.end(), [](const std::string& s) { return !s.empty(); });
}

}  // namespace

std::string metric_title(const std::string& key) {
  for (const auto& [k, v] : known_titles()) {
    if (k == key) return v;
  }
  return key;
}

std::vector<std::string> paper_column_order(std::vector<std::string> keys) {
  std::map<std::string, size_t> rank;
  for (size_t i = 0; i < known_titles().size(); ++i) rank[known_titles()[i].first] = i;
  std::stable_sort(keys.begin(), keys.end(), [&rank](const std::string& a, const std::string& b) {
    size_t ra = rank.count(a) ? rank[a] : 1000, rb = rank.count(b) ? rank[b] : 1000;
    return ra != rb ? ra < rb : a < b;
  });
  return keys;
}

std::string to_markdown(const MetricTable& t, bool show_ci) {
  const auto best = best_rows(t);
  const bool tasks = has_tasks(t);
  std::string out = "| Run |" + std::string(tasks ? " Task |" : "");
  for (const auto& c : t.columns) out += " " + metric_title(c) + " |";
  out += "\n|---|" + std::string(tasks ? "---|" : "");
  for (size_t c = 0; c < t.columns.size(); ++c) out += "---:|";
  out += "\n";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    out += "| " + t.rows[r] + (static_cast<int>(r) == t.baseline_row ? " (baseline)" : "") + " |";
    if (tasks) out += " " + (r < t.row_tasks.size() ? t.row_tasks[r] : "") + " |";
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const Cell& cell = t.cells[r][c];
      if (!cell.present) {
        out += " - |";
        continue;
      }
      std::string v = fmt::format("{:.{}f}", cell.value, t.digits);
      if (best[c] == static_cast<int>(r)) v = "**" + v + "**";
      if (significant(t, r, cell)) v += "†";
      if (show_ci && cell.has_ci) v += fmt::format(" [{:.{}f}, {:.{}f}]", cell.lo, t.digits, cell.hi, t.digits);
      out += " " + v + " |";
    }
    out += "\n";
  }
  if (t.baseline_row >= 0) {
    out += fmt::format("\n† differs from the baseline ({}) by a paired bootstrap test, p < {}.\n",
                       t.rows[t.baseline_row], t.alpha);
  }
  if (show_ci) out += "\nBrackets: 95% bootstrap confidence intervals.\n";
  return out;
}

std::string to_latex(const MetricTable& t, bool show_ci) {
  const auto best = best_rows(t);
  const bool tasks = has_tasks(t);
  std::string out = "\\begin{table}[t]\n\\centering\n\\begin{tabular}{l" + std::string(tasks ? "c" : "") +
                    std::string(t.columns.size(), 'r') + "}\n\\toprule\nRun" + (tasks ? " & Task" : "");
  for (const auto& c : t.columns) out += " & " + latex_escape(metric_title(c));
  out += " \\\\\n\\midrule\n";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    out += latex_escape(t.rows[r]);
    if (tasks) out += " & " + latex_escape(r < t.row_tasks.size() ? t.row_tasks[r] : "");
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const Cell& cell = t.cells[r][c];
      if (!cell.present) {
        out += " & --";
        continue;
      }
      std::string v = fmt::format("{:.{}f}", cell.value, t.digits);
      if (best[c] == static_cast<int>(r)) v = "\\textbf{" + v + "}";
      if (significant(t, r, cell)) v += "$^\\dagger$";
      if (show_ci && cell.has_ci) v += fmt::format(" {{\\scriptsize [{:.{}f}, {:.{}f}]}}", cell.lo, t.digits, cell.hi, t.digits);
      out += " & " + v;
    }
    out += " \\\\\n";
  }
  out += "\\bottomrule\n\\end{tabular}\n\\caption{";
  out += "Automatic metrics of the generated therapist responses; best per column in bold.";
  if (t.baseline_row >= 0) {
    out += fmt::format(" $^\\dagger$: differs from {} by a paired bootstrap test ($p<{}$).",
                       latex_escape(t.rows[t.baseline_row]), t.alpha);
  }
  if (show_ci) out += " Brackets: 95\\% bootstrap confidence intervals.";
  out += "}\n\\end{table}\n";
  return out;
}

std::string to_csv(const MetricTable& t) {
  std::string out = "run,task";
  for (const auto& c : t.columns) out += "," + c + "," + c + "_ci_lo," + c + "_ci_hi," + c + "_p_vs_baseline";
  out += "\n";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    out += csv_field(t.rows[r]) + "," + csv_field(r < t.row_tasks.size() ? t.row_tasks[r] : "");
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const Cell& cell = t.cells[r][c];
      auto num = [](bool ok, double v) { return ok ? fmt::format("{:.17g}", v) : std::string(); };
      out += "," + num(cell.present, cell.value) + "," + num(cell.has_ci, cell.lo) + "," + num(cell.has_ci, cell.hi) +
             "," + num(cell.has_p, cell.p_value);
    }
    out += "\n";
  }
  return out;
}

}  // namespace psy::report
