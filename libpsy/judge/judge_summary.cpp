#include "libpsy/judge/judge_summary.h"

#include "eval/bootstrap.h"

namespace psy::judge {

nlohmann::ordered_json summarize_judgements(const Rubric& rubric, const std::vector<Judgement>& judgements,
                                            int resamples, uint64_t seed) {
  std::vector<std::vector<double>> columns(rubric.dimensions.size());
  nlohmann::ordered_json unscored = nlohmann::ordered_json::array();
  size_t retried = 0, rescued = 0;
  for (const auto& j : judgements) {
    if (j.answers.size() > 1) {
      ++retried;
      if (j.scored) ++rescued;
    }
    if (!j.scored) {
      unscored.push_back(j.id);
      continue;
    }
    for (size_t d = 0; d < rubric.dimensions.size(); ++d) {
      auto it = j.scores.find(rubric.dimensions[d].name);
      columns[d].push_back(it == j.scores.end() ? 0.0 : static_cast<double>(it->second));
    }
  }
  const size_t n_scored = judgements.size() - unscored.size();
  std::vector<eval::Interval> cis;
  if (n_scored > 0 && resamples > 0) {
    std::vector<const std::vector<double>*> cols;
    for (const auto& c : columns) cols.push_back(&c);
    cis = eval::bootstrap_mean_ci(cols, resamples, seed);
  }
  nlohmann::ordered_json out;
  out["n_examples"] = judgements.size();
  out["n_scored"] = n_scored;
  out["n_unscored"] = unscored.size();
  out["unscored_ids"] = unscored;
  out["retried"] = retried;
  out["rescued_by_retry"] = rescued;
  nlohmann::ordered_json dims = nlohmann::ordered_json::object();
  for (size_t d = 0; d < rubric.dimensions.size(); ++d) {
    nlohmann::ordered_json v;
    if (n_scored > 0) {
      v["mean"] = eval::mean_of(columns[d]);
      if (!cis.empty()) v["ci95"] = {cis[d].low, cis[d].high};
      else v["ci95"] = nullptr;
    } else {
      v["mean"] = nullptr;
      v["ci95"] = nullptr;
    }
    v["n"] = n_scored;
    v["min"] = rubric.dimensions[d].min;
    v["max"] = rubric.dimensions[d].max;
    dims[rubric.dimensions[d].name] = v;
  }
  out["dimensions"] = dims;
  return out;
}

}  // namespace psy::judge
