// BERTScore as `psy score`'s external per-pair metrics bertscore_p / bertscore_r / bertscore_f
// (the eval::ExternalPairMetric hook of eval/scoring.h).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eval/bertscore/bert_scorer.h"
#include "eval/scoring.h"

namespace psy::eval {

// bert_score's own hash string (its get_hash) for these options, as bert_score.score(...,
// model_type=options.model_dir, num_layers=options.num_layers, idf=options.idf, baseline_path=
// options.baseline_path (a custom baseline), return_hash=True) prints it, e.g.
// "DIR_L6_no-idf_version=0.3.12(hug_trans=5.23.0)". bert_score 0.3.13 still reports version 0.3.12;
// `transformers_version` is the transformers release psy's tokenizers are checked against.
constexpr const char* kBertScoreHashVersion = "0.3.12";
constexpr const char* kBertScoreTransformers = "5.23.0";
std::string bert_score_hash(const BertScoreOptions& options, const std::string& transformers_version = kBertScoreTransformers);

// The signature of one BERTScore metric: model folder name, layer, idf, rescaling, dtype, and
// bert_score's hash string.
std::string bertscore_signature(const std::string& metric, const BertScoreOptions& options);

// An ExternalPairMetric for the bertscore_* names among `metrics` (empty `names` when none is
// requested). The scorer is shared, so several prediction files scored against the same
// references embed those references once. With idf on, the whole file is one batch, because
// bert_score computes idf from all references of a call.
ExternalPairMetric make_bertscore_metric(std::shared_ptr<BertScorer> scorer, const std::vector<std::string>& metrics);

// What `psy score` was asked for (--bertscore-model, --bertscore-layer, --idf, --baseline, ...).
struct BertScoreRequest {
  std::string model_dir;
  std::string layer = "auto";  // a number, or "auto": bert_score's layer for the model's folder
                               // name when it knows it, else the language default (en 17, zh 8)
  bool idf = false;
  std::string baseline_path;
  std::string device = "cpu";
  std::string dtype = "fp32";
  int64_t batch_size = 64;
};

// bert_score's layer for a model named like the folder (e.g. roberta-large -> 17), else -1.
int bertscore_known_layer(const std::string& model_dir);

// Loads the encoder and returns the hook for the bertscore_* names among `metrics`, or nullopt
// when none is requested (no model is loaded then). Throws psy::Error with the option to fix
// when the model folder is missing or the layer is not a number / out of range.
std::optional<ExternalPairMetric> bertscore_metric_for(const BertScoreRequest& request, const std::string& lang,
                                                       const std::vector<std::string>& metrics);

// The model folder for `psy score`: `model_dir` when given, else an error that names bert_score's
// default model and layer for `lang` and the option to pass.
std::string resolve_bertscore_model(const std::string& model_dir, const std::string& lang);

}  // namespace psy::eval
