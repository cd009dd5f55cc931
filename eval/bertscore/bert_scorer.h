// BERTScore with bert_score's numbers (Tiiiger/bert_score 0.3.13, slow tokenizers):
//
//   psy::eval::BertScoreOptions o;
//   o.model_dir = "models/roberta-large"; o.num_layers = 17;
//   psy::eval::BertScorer scorer(o);
//   auto s = scorer.score(hyps, refs);   // s.precision[i], s.recall[i], s.f1[i]
//
// Sentences are tokenised with sent_encode, embedded in padded batches sorted by length, and
// matched greedily (greedy_match.h). Reference embeddings (and the idf weights of a reference
// list) are cached inside the scorer, so scoring several systems against the same references
// embeds the references once. A pair whose hyp or ref is empty after tokenisation (only cls and
// sep) scores P = R = F = 0 before rescaling, as in bert_score.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/torch.h>

#include "eval/bertscore/greedy_match.h"
#include "eval/bertscore/idf_weights.h"
#include "eval/bertscore/rescale_baseline.h"
#include "eval/bertscore/sentence_tokenizer.h"
#include "eval/bertscore/transformer_encoder.h"

namespace psy::eval {

// bert_score's default model and layer for a language ("en": roberta-large 17, "zh":
// bert-base-chinese 8, others: bert-base-multilingual-cased 9).
struct BertScoreDefault {
  std::string model_name;
  int num_layers;
};
BertScoreDefault bertscore_default_for_language(const std::string& lang);

struct BertScoreOptions {
  std::string model_dir;         // Hugging Face folder: config.json, *.safetensors, tokenizer files
  int num_layers = -1;           // hidden_states[num_layers]; -1 = the model's last layer
  bool idf = false;              // idf weights from the references of each score() call
  std::string baseline_path;     // bert_score-format baseline CSV; empty = no rescaling
  int64_t batch_size = 64;       // sentences per encoder batch and pairs per matching batch
  std::string device = "cpu";    // "cpu", "cuda", "cuda:1"
  std::string dtype = "fp32";    // fp32 | bf16 | fp16 (encoder weights and activations)
  // CPU: run LibTorch's element-wise operations on one thread while scoring (GEMMs stay parallel
  // in the BLAS); avoids OpenMP busy-waiting against the BLAS threads (see BertScorer::score).
  bool cpu_single_intra_op = true;
};

struct BertScores {
  std::vector<double> precision, recall, f1;
  size_t empty_pairs = 0;      // pairs scored 0 because a side was empty
  size_t truncated_texts = 0;  // hyps + refs that lost tokens to the length limit
  bool rescaled = false;
};

class BertScorer {
 public:
  explicit BertScorer(BertScoreOptions options);

  // Scores hyps[i] against refs[i]. Throws psy::Error when the sizes differ.
  BertScores score(const std::vector<std::string>& hyps, const std::vector<std::string>& refs);

  const BertScoreOptions& options() const { return options_; }
  const SentenceTokenizer& tokenizer() const { return tokenizer_; }
  const TransformerEncoder& encoder() const { return *encoder_; }
  // Drops the cached reference embeddings and idf weights.
  void clear_cache();

 private:
  // Embeds every text of `texts` (with its sent_encode result `encoded[i]`) not yet in `cache`
  // (normalised, float32, on the device).
  void embed_missing(const std::vector<std::string>& texts, const std::vector<EncodedSentence>& encoded,
                     std::unordered_map<std::string, torch::Tensor>& cache);

  BertScoreOptions options_;
  torch::Device device_;
  std::unique_ptr<TransformerEncoder> encoder_;
  SentenceTokenizer tokenizer_;
  bool has_baseline_ = false;
  RescaleBaseline baseline_;
  std::unordered_map<std::string, torch::Tensor> ref_cache_;
  std::vector<std::string> idf_refs_;  // the reference list idf_ was computed from
  IdfWeights idf_;
};

}  // namespace psy::eval
