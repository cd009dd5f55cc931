#include "libpsy/report/run_results.h"

#include <algorithm>
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/jsonl_reader.h"
#include "libpsy/core/text_file.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/run/run_folder.h"

namespace psy::report {

namespace {

using json = nlohmann::json;

json parse_json_file(const std::string& path) {
  std::string text = read_text_file(path);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(path + ": malformed JSON: " + e.what());
  }
}

std::string basename_of(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  auto slash = dir.rfind('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

void read_metrics(const std::string& path, RunResults& r) {
  json j = parse_json_file(path);
  if (j.contains("name") && j["name"].is_string()) r.name = j["name"];
  if (j.contains("task") && j["task"].is_string()) r.task = j["task"];
  const json* m = nullptr;
  for (const char* key : {"metrics", "corpus"}) {
    if (j.contains(key) && j[key].is_object()) {
      m = &j[key];
      break;
    }
  }
  if (!m) throw Error(path + ": expected an object \"metrics\" with one entry per metric");
  for (auto it = m->begin(); it != m->end(); ++it) {
    MetricValue v;
    const json& e = it.value();
    if (e.is_number()) {
      v.value = e.get<double>();
    } else if (e.is_object()) {
      const char* value_key = e.contains("value") ? "value" : (e.contains("mean") ? "mean" : nullptr);
      if (!value_key || !e[value_key].is_number()) continue;  // e.g. an error entry
      v.value = e[value_key].get<double>();
      for (const char* ci_key : {"ci95", "ci"}) {
        if (e.contains(ci_key) && e[ci_key].is_array() && e[ci_key].size() == 2 && e[ci_key][0].is_number()) {
          v.has_ci = true;
          v.lo = e[ci_key][0].get<double>();
          v.hi = e[ci_key][1].get<double>();
        }
      }
    } else {
      continue;
    }
    r.metrics[it.key()] = v;
  }
  // psy eval's share of generations with every chain-of-thought section, beside the metrics.
  if (j.contains("cot_parse_rate") && j["cot_parse_rate"].is_number())
    r.metrics["cot_parse_rate"] = MetricValue{j["cot_parse_rate"].get<double>()};
}

// Every JSON line of `path` (a file of a run: psy writes them whole, so any bad line is an error).
void for_each_json_line(const std::string& path, const std::function<void(const json&)>& f) {
  for_each_jsonl_line(path, [&f](const JsonLine& line) { f(line.value); });
}

// Rubric judge results (psy judge, eval.judge): judge_NAME.json means and intervals become metrics
// "judge.NAME.DIMENSION"; judgements_NAME.jsonl gives the per-example scores of the scored examples.
// Returns whether any judge file was found.
bool read_judge_files(const std::string& dir, RunResults& r) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("judge_", 0) == 0 && e.path().extension() == ".json") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    const json j = parse_json_file(path);
    if (!j.is_object() || !j.contains("rubric") || !j["rubric"].is_object() || !j["rubric"].contains("name") ||
        !j["rubric"]["name"].is_string() || !j.contains("dimensions") || !j["dimensions"].is_object())
      throw Error(path + ": expected a psy judge summary (\"rubric\": {\"name\"}, \"dimensions\": {...})");
    const std::string rubric = j["rubric"]["name"];
    const std::string prefix = "judge." + rubric + ".";
    for (auto it = j["dimensions"].begin(); it != j["dimensions"].end(); ++it) {
      const json& d = it.value();
      if (!d.is_object() || !d.contains("mean") || !d["mean"].is_number()) continue;  // nothing scored
      MetricValue v;
      v.value = d["mean"].get<double>();
      if (d.contains("ci95") && d["ci95"].is_array() && d["ci95"].size() == 2 && d["ci95"][0].is_number()) {
        v.has_ci = true;
        v.lo = d["ci95"][0].get<double>();
        v.hi = d["ci95"][1].get<double>();
      }
      r.metrics[prefix + it.key()] = v;
    }
    // The share of examples the judge could score (the rest are unscored), beside its means.
    if (j.contains("n_examples") && j["n_examples"].is_number() && j["n_examples"].get<double>() > 0 &&
        j.contains("n_scored") && j["n_scored"].is_number())
      r.metrics[prefix + "scored"] = MetricValue{j["n_scored"].get<double>() / j["n_examples"].get<double>()};
    const std::string judgements = dir + "/judgements_" + rubric + ".jsonl";
    if (path_exists(judgements)) {
      for_each_json_line(judgements, [&r, &prefix](const json& line) {
        if (!line.is_object() || !line.contains("id") || !line["id"].is_string() || !line.value("scored", false)) return;
        if (!line.contains("scores") || !line["scores"].is_object()) return;
        for (auto it = line["scores"].begin(); it != line["scores"].end(); ++it)
          if (it.value().is_number()) r.per_example[prefix + it.key()][line["id"].get<std::string>()] = it.value().get<double>();
      });
    }
  }
  return !files.empty();
}

}  // namespace

RunResults read_run_folder(const std::string& dir) {
  RunResults r;
  r.dir = dir;
  if (!path_exists(dir)) throw Error(dir + ": no such run folder");
  const RunFolder run(dir);
  const std::string metrics = run.metrics_path();
  const std::string log = run.log_path();
  const bool judged = std::filesystem::is_directory(dir) && read_judge_files(dir, r);
  if (!path_exists(metrics) && !path_exists(log) && !judged) {
    throw Error(dir + ": not a run folder (expected metrics.json from psy eval or log.jsonl from psy train)");
  }
  if (path_exists(metrics)) read_metrics(metrics, r);
  // The resolved recipe psy train wrote, read by the recipe code (name and data.task label the row).
  if ((r.name.empty() || r.task.empty()) && path_exists(run.recipe_path())) {
    const Recipe recipe = load_recipe(run.recipe_path());
    if (r.name.empty()) r.name = recipe.name;
    if (r.task.empty()) r.task = recipe.data.task;
  }
  if (r.name.empty()) r.name = basename_of(dir);
  const std::string preds = run.predictions_path();
  if (path_exists(preds)) {
    for_each_json_line(preds, [&r](const json& j) {
      if (!j.is_object() || !j.contains("id")) return;
      std::string id = j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump();
      // psy eval nests them under "scores"; psy score --per-example puts them at the top level.
      const json& scores = j.contains("scores") && j["scores"].is_object() ? j["scores"] : j;
      for (auto it = scores.begin(); it != scores.end(); ++it) {
        if (it.key() != "id" && it.value().is_number()) r.per_example[it.key()][id] = it.value().get<double>();
      }
    });
  }
  if (path_exists(log)) {
    for_each_json_line(log, [&r](const json& j) {
      if (!j.contains("step") || !j["step"].is_number()) return;
      double step = j["step"].get<double>();
      if (j.contains("loss") && j["loss"].is_number()) r.train_loss.emplace_back(step, j["loss"].get<double>());
      if (j.contains("eval_loss") && j["eval_loss"].is_number()) r.eval_loss.emplace_back(step, j["eval_loss"].get<double>());
    });
  }
  return r;
}

}  // namespace psy::report
