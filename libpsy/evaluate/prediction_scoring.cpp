#include "libpsy/evaluate/prediction_scoring.h"

#include <cmath>

#include "eval/metric_json.h"
#include "eval/bertscore/bertscore_metric.h"
#include "libpsy/core/error.h"

namespace psy {

namespace {

using nlohmann::ordered_json;

struct Pairs {
  std::vector<size_t> index;  // record of each pair
  std::vector<std::string> hyps, refs;
};

eval::ScoringResult score_pairs(const Pairs& pairs, const PredictionScoring& s) {
  eval::Scorer scorer(s.options, eval::load_scoring_resources(s.options));
  if (s.bertscore) scorer.set_external(*s.bertscore);
  const size_t batch = 256;
  for (size_t i = 0; i < pairs.hyps.size(); i += batch) {
    const size_t end = std::min(pairs.hyps.size(), i + batch);
    std::vector<std::string> h(pairs.hyps.begin() + static_cast<long>(i), pairs.hyps.begin() + static_cast<long>(end));
    std::vector<std::string> r(pairs.refs.begin() + static_cast<long>(i), pairs.refs.begin() + static_cast<long>(end));
    scorer.add_batch(h, r, s.threads);
  }
  return scorer.finish();
}

ordered_json corpus_json(const eval::ScoringResult& r) {
  ordered_json m = ordered_json::object();
  for (const auto& v : r.corpus) m[v.name] = eval::metric_value_json(v);
  return m;
}

}  // namespace

PredictionScoring prediction_scoring_from_recipe(const Recipe& recipe, long vocab_size, int threads) {
  PredictionScoring s;
  s.options.protocol = eval::parse_protocol(recipe.eval.protocol);
  s.options.lang = recipe.data.lang;
  s.options.seed = static_cast<uint64_t>(recipe.seed);
  s.options.vocab_size = vocab_size;
  s.threads = threads < 1 ? 1 : threads;
  std::string csv;
  std::vector<std::string> dropped;
  for (const auto& m : recipe.eval.metrics) {
    if (m.rfind("bertscore_", 0) == 0 && recipe.eval.bertscore_model.empty()) {
      dropped.push_back(m);
      continue;
    }
    csv += (csv.empty() ? "" : ",") + m;
  }
  if (csv.empty()) throw Error("eval.metrics: no metric left to compute (bertscore_* need eval.bertscore_model)");
  s.options.metrics = eval::parse_metric_list(csv);
  if (!dropped.empty()) {
    std::string names;
    for (const auto& d : dropped) names += (names.empty() ? "" : ", ") + d;
    s.notes.push_back("left out " + names + ": eval.bertscore_model is not set");
  }
  eval::BertScoreRequest request;
  request.model_dir = recipe.eval.bertscore_model;
  if (!request.model_dir.empty()) s.bertscore = eval::bertscore_metric_for(request, s.options.lang, s.options.metrics);
  return s;
}

ordered_json score_predictions(std::vector<PredictionRecord>& records, const PredictionScoring& scoring) {
  ordered_json out;
  // The response against the gold therapist turn: every record.
  Pairs response;
  for (size_t i = 0; i < records.size(); ++i) {
    response.index.push_back(i);
    response.hyps.push_back(records[i].parsed.response);
    response.refs.push_back(records[i].gold.response);
  }
  auto attach = [&](const Pairs& pairs, const eval::ScoringResult& r, const std::string& section) {
    for (size_t c = 0; c < r.per_example_names.size(); ++c)
      for (size_t p = 0; p < pairs.index.size(); ++p) {
        auto& rec = records[pairs.index[p]];
        const double v = r.per_example[c][p];
        if (section.empty())
          rec.scores[r.per_example_names[c]] = v;
        else
          rec.section_scores[section][r.per_example_names[c]] = v;
      }
  };
  if (!records.empty()) {
    const auto r = score_pairs(response, scoring);
    attach(response, r, "");
    out["n_pairs"] = r.n_pairs;
    out["empty_hyp"] = r.empty_hyp;
    out["empty_ref"] = r.empty_ref;
    out["metrics"] = corpus_json(r);
  } else {
    out["n_pairs"] = 0;
    out["metrics"] = ordered_json::object();
  }
  // Observation and reasoning against the gold annotations, where they exist.
  ordered_json sections = ordered_json::object();
  for (const char* section : {"observation", "reasoning"}) {
    const bool obs = std::string(section) == "observation";
    Pairs pairs;
    for (size_t i = 0; i < records.size(); ++i) {
      const auto& rec = records[i];
      const bool has = obs ? task_has_observation(rec.task) : task_has_reasoning(rec.task);
      const std::string& gold = obs ? rec.gold.observation : rec.gold.reasoning;
      if (!has || gold.empty()) continue;
      pairs.index.push_back(i);
      pairs.hyps.push_back(obs ? rec.parsed.observation : rec.parsed.reasoning);
      pairs.refs.push_back(gold);
    }
    if (pairs.index.empty()) continue;
    const auto r = score_pairs(pairs, scoring);
    attach(pairs, r, section);
    ordered_json s;
    s["n_pairs"] = r.n_pairs;
    s["empty_hyp"] = r.empty_hyp;
    s["metrics"] = corpus_json(r);
    sections[section] = s;
  }
  out["sections"] = sections;
  return out;
}

}  // namespace psy
