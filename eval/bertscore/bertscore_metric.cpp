#include "eval/bertscore/bertscore_metric.h"

#include <cstdlib>
#include <iostream>
#include <limits>
#include <map>

#include "eval/bertscore/encoder_config.h"
#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"

namespace psy::eval {

namespace {

std::string folder_name(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string bert_score_hash(const BertScoreOptions& o, const std::string& transformers_version) {
  std::string h = o.model_dir + "_L" + std::to_string(o.num_layers) + (o.idf ? "_idf" : "_no-idf") +
                  "_version=" + kBertScoreHashVersion + "(hug_trans=" + transformers_version + ")";
  if (!o.baseline_path.empty()) h += "-custom-rescaled";  // psy takes the baseline file as bert_score's baseline_path
  return h;
}

std::string bertscore_signature(const std::string& metric, const BertScoreOptions& o) {
  return metric + "|model:" + folder_name(o.model_dir) + "|L:" + std::to_string(o.num_layers) + "|idf:" + (o.idf ? "yes" : "no") +
         "|rescaled:" + (o.baseline_path.empty() ? "no" : "yes(" + folder_name(o.baseline_path) + ")") + "|dtype:" + o.dtype +
         "|tok:slow|impl:bert_score0.3.13|agg:mean|hash:" + bert_score_hash(o) + "|psy:" + psy_version();
}

ExternalPairMetric make_bertscore_metric(std::shared_ptr<BertScorer> scorer, const std::vector<std::string>& metrics) {
  ExternalPairMetric m;
  std::vector<int> columns;  // 0 = P, 1 = R, 2 = F
  for (const auto& name : metrics) {
    const int col = name == "bertscore_p" ? 0 : name == "bertscore_r" ? 1 : name == "bertscore_f" ? 2 : -1;
    if (col < 0) continue;
    m.names.push_back(name);
    m.signatures[name] = bertscore_signature(name, scorer->options());
    columns.push_back(col);
  }
  m.batch_size = scorer->options().idf ? std::numeric_limits<size_t>::max() : 1024;
  m.score_batch = [scorer, columns](const std::vector<std::string>& hyps, const std::vector<std::string>& refs) {
    const BertScores s = scorer->score(hyps, refs);
    std::vector<std::vector<double>> rows(hyps.size());
    for (size_t i = 0; i < hyps.size(); ++i) {
      for (int c : columns) rows[i].push_back(c == 0 ? s.precision[i] : c == 1 ? s.recall[i] : s.f1[i]);
    }
    return rows;
  };
  return m;
}

std::string resolve_bertscore_model(const std::string& model_dir, const std::string& lang) {
  if (!model_dir.empty()) {
    if (!path_exists(model_dir + "/config.json"))
      throw Error(ErrorLocation{model_dir, 0, 0, "", "", ""},
                  "--bertscore-model: not a Hugging Face model folder (config.json, *.safetensors and tokenizer files expected)");
    return model_dir;
  }
  const auto d = bertscore_default_for_language(lang);
  throw Error("BERTScore needs the encoder's folder: pass --bertscore-model DIR (bert_score's default for lang " + lang + " is " +
              d.model_name + " with --bertscore-layer " + std::to_string(d.num_layers) +
              "; download it from the Hugging Face hub in safetensors format)");
}

}  // namespace psy::eval

namespace psy::eval {

int bertscore_known_layer(const std::string& model_dir) {
  // bert_score 0.3.13's model2layers for the models a counselling evaluation is likely to use.
  static const std::map<std::string, int> layers = {
      {"bert-base-uncased", 9},         {"bert-large-uncased", 18},        {"bert-base-cased", 9},
      {"bert-large-cased", 18},         {"bert-base-multilingual-cased", 9}, {"bert-base-chinese", 8},
      {"roberta-base", 10},             {"roberta-large", 17},             {"roberta-large-mnli", 19},
      {"distilroberta-base", 5},        {"distilbert-base-uncased", 5},    {"xlm-roberta-base", 9},
      {"xlm-roberta-large", 17},
  };
  const auto it = layers.find(folder_name(model_dir));
  return it == layers.end() ? -1 : it->second;
}

std::optional<ExternalPairMetric> bertscore_metric_for(const BertScoreRequest& request, const std::string& lang,
                                                       const std::vector<std::string>& metrics) {
  bool wanted = false;
  for (const auto& m : metrics) wanted = wanted || m.rfind("bertscore_", 0) == 0;
  if (!wanted) return std::nullopt;
  BertScoreOptions o;
  o.model_dir = resolve_bertscore_model(request.model_dir, lang);
  if (request.layer == "auto") {
    o.num_layers = bertscore_known_layer(o.model_dir);
    if (o.num_layers < 0) {
      o.num_layers = bertscore_default_for_language(lang).num_layers;
      // A model bert_score has no layer for (e.g. all-MiniLM-L6-v2: bert_score.score raises
      // KeyError unless num_layers is given) and fewer layers than the language default.
      const int have = static_cast<int>(read_encoder_config(o.model_dir + "/config.json").num_hidden_layers);
      if (have < o.num_layers)
        throw Error("--bertscore-layer auto: bert_score has no default layer for '" + folder_name(o.model_dir) +
                    "' and the language default (" + std::to_string(o.num_layers) + ") is beyond its " +
                    std::to_string(have) + " layers: pass --bertscore-layer N (1 to " + std::to_string(have) +
                    "), as bert_score needs num_layers for it");
    }
  } else {
    char* end = nullptr;
    const long layer = std::strtol(request.layer.c_str(), &end, 10);
    if (request.layer.empty() || *end != '\0' || layer < 0 || layer > 1000)
      throw Error("--bertscore-layer: " + expected_found("a layer number or auto", "'" + request.layer + "'"));
    o.num_layers = static_cast<int>(layer);
  }
  o.idf = request.idf;
  o.baseline_path = request.baseline_path;
  o.device = request.device;
  o.dtype = request.dtype;
  o.batch_size = request.batch_size;
  auto scorer = std::make_shared<BertScorer>(o);
  std::cerr << "psy score: BERTScore with " << o.model_dir << ", layer " << o.num_layers << (o.idf ? ", idf" : "")
            << (o.baseline_path.empty() ? "" : ", rescaled") << ", " << o.dtype << " on " << o.device << "\n";
  return make_bertscore_metric(std::move(scorer), metrics);
}

}  // namespace psy::eval
