// BERTScore as `psy score`'s external per-pair metrics bertscore_p / bertscore_r / bertscore_f
// (the eval::ExternalPairMetric hook of eval/scoring.h).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "eval/bertscore/bert_scorer.h"
#include "eval/scoring.h"

namespace psy::eval {

// The signature of one BERTScore metric: model folder name, layer, idf, rescaling, dtype.
std::string bertscore_signature(const std::string& metric, const BertScoreOptions& options);

// An ExternalPairMetric for the bertscore_* names among `metrics` (empty `names` when none is
// requested). The scorer is shared, so several prediction files scored against the same
// references embed those references once. With idf on, the whole file is one batch, because
// bert_score computes idf from all references of a call.
ExternalPairMetric make_bertscore_metric(std::shared_ptr<BertScorer> scorer, const std::vector<std::string>& metrics);

// The model folder for `psy score`: `model_dir` when given, else an error that names bert_score's
// default model and layer for `lang` and the option to pass.
std::string resolve_bertscore_model(const std::string& model_dir, const std::string& lang);

}  // namespace psy::eval
