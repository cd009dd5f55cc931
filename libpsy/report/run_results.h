// What `psy report` reads from a run folder (written by `psy train` and `psy eval`):
//   metrics.json       {"name": ..., "task": ..., "metrics": {KEY: {"value": v, "ci95": [lo, hi]} | v, ...}}
//                      and "cot_parse_rate" (psy eval), shown as the metric "cot_parse_rate"
//                      ("mean" is accepted for "value", "ci" for "ci95"; a "corpus" object is accepted for "metrics")
//   predictions.jsonl  one object per example with "id" and "scores": {KEY: v, ...} (paired tests);
//                      per-metric numbers at the top level (psy score --per-example) are accepted too
//   log.jsonl          training log lines with "step" and "loss" and/or "eval_loss"
//   judge_NAME.json    psy judge's means per dimension, as metrics "judge.NAME.DIMENSION" (with CIs),
//                      and the share of examples it could score, "judge.NAME.scored";
//                      judgements_NAME.jsonl gives their per-example scores
//   recipe.yaml        the resolved recipe, read by the recipe code (name and data.task label the row
//                      when metrics.json lacks them)
// File names come from RunFolder (libpsy/run/run_folder.h).
#pragma once
#include <map>
#include <string>
#include <vector>

namespace psy::report {

struct MetricValue {
  double value = 0;
  bool has_ci = false;
  double lo = 0, hi = 0;
};

struct RunResults {
  std::string dir;
  std::string name;
  std::string task;
  std::map<std::string, MetricValue> metrics;
  // Per-example scores by example id, for paired tests: metric -> id -> value.
  std::map<std::string, std::map<std::string, double>> per_example;
  // Training curves: (step, value).
  std::vector<std::pair<double, double>> train_loss, eval_loss;
};

// Reads a run folder; throws psy::Error naming the folder and file when nothing usable is there
// or a file is malformed.
RunResults read_run_folder(const std::string& dir);

}  // namespace psy::report
