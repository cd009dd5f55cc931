// Scoring a stream of (hypothesis, reference) pairs with a protocol and a list of metrics: the one
// entry point `psy score` and the evaluation runner (`psy eval`) use.
//
// Protocols (eval/README.md explains every difference):
//  * psy-insight — the Psy-Insight paper's `auto-eval/main.py`, read line for line for English:
//      tokens  jieba.cut (space tokens kept) and jieba_ws (" ".join(jieba.cut(t)).split());
//      bleuN   mean of NLTK sentence_bleu([ref_jieba_ws], hyp_jieba_ws, (1/N,)*N, method1);
//      meteor  mean of NLTK meteor_score([hyp_jieba], ref_jieba) — arguments swapped, as the paper;
//      rouge*  en: rouge_score on the raw strings (its default tokenizer, no stemmer), as HF
//              `evaluate`'s rouge does; zh: rouge_score on jieba_ws tokens (our reconstruction:
//              main.py's default tokenizer drops CJK, so main.py itself gives 0 on Chinese);
//      distinctN  lsy641/distinct's Distinct-N (13a, left padding) on the raw hypotheses (en) or on
//              " ".join(jieba.cut(hyp)) (zh, our reconstruction), divided by the number of pairs,
//              as the paper reported it; ead: the module's EAD.
//  * standard — the corrected forms: tokens per language (en: Python whitespace split, and
//      rouge_score's default tokenizer (± its Porter stemmer) for ROUGE; zh: jieba_ws, or characters
//      for ROUGE); meteor_score([ref], hyp); plain corpus Distinct-N (no padding), not divided; EAD
//      with the vocabulary size.
//  Both: `sacrebleu` = sacrebleu 2.x corpus BLEU on the raw strings (13a or zh tokenizer).
//
// Memory stays flat in the number of pairs: per pair only the metric values are kept (and, for
// Distinct, the set of distinct n-grams); tokens are dropped after each pair.
//
// Speed: each worker thread has its own context, kept across batches: a Vocabulary that turns
// every token into an id once for BLEU, METEOR and ROUGE, METEOR's memo of lower-case forms,
// Porter stems and synonym sets (MeteorScorer), and its own Distinct counter (merged by finish()).
// Nothing mutable is shared between threads but the WordNet's synonym cache (thread-safe).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eval/bleu.h"
#include "eval/bootstrap.h"
#include "eval/distinct.h"
#include "eval/sacrebleu.h"

namespace psy::eval {

class JiebaSegmenter;
class WordNet;

enum class Protocol { psy_insight, standard };
Protocol parse_protocol(const std::string& name);  // "psy-insight" | "standard"
std::string to_string(Protocol p);

// Every metric name `psy score --metrics` accepts, in a stable order:
//   per example (corpus value = mean, with a bootstrap CI):
//     bleu1 bleu2 bleu3 bleu4 meteor, rouge1 rouge2 rougeL rougeLsum (F; _p and _r for precision
//     and recall), and the hooks bertscore_p/r/f
//   corpus level: corpus_bleu1..4 (NLTK corpus_bleu) sacrebleu (0..100) distinct1 distinct2 distinct3 ead
const std::vector<std::string>& known_metrics();
bool is_per_example_metric(const std::string& name);
// Splits "bleu1,bleu3,meteor" and checks every name; throws psy::Error naming the valid ones.
std::vector<std::string> parse_metric_list(const std::string& csv);

// HOOK for metrics computed outside psy_eval (BERTScore lives in eval/bertscore and needs LibTorch):
// a scorer of batches of pairs returning one row of values per pair, one value per name.
// `psy score` installs it for bertscore_p/r/f when the psy_bertscore library provides one.
struct ExternalPairMetric {
  std::vector<std::string> names;                 // e.g. {"bertscore_p", "bertscore_r", "bertscore_f"}
  std::map<std::string, std::string> signatures;  // per name
  size_t batch_size = 32;
  std::function<std::vector<std::vector<double>>(const std::vector<std::string>& hyps,
                                                 const std::vector<std::string>& refs)>
      score_batch;
};

struct ScoringOptions {
  Protocol protocol = Protocol::standard;
  std::string lang = "en";                     // en | zh (the standard protocol's tokenisation)
  std::vector<std::string> metrics = {"bleu1", "bleu3", "meteor", "rougeL", "distinct2"};
  BleuSmoothing smoothing = BleuSmoothing::method1;
  long vocab_size = 32000;                     // EAD's V (Mistral's vocabulary, as in the paper)
  bool rouge_stem = false;                     // standard/en: rouge_score use_stemmer
  std::string zh_rouge_tokens = "jieba";       // standard/zh ROUGE tokens: jieba | char
  std::string sacrebleu_tokenize;              // "13a" | "zh"; "" = sacrebleu's choice for lang (zh: zh)
  SacreSmooth sacrebleu_smooth = SacreSmooth::exp;
  std::optional<double> sacrebleu_smooth_value;  // floor 0.1, add-k 1 when not given
  int bootstrap_resamples = 1000;              // 0: no confidence intervals
  uint64_t seed = 66;
  std::string jieba_dir;                       // "" = JiebaSegmenter::default_dir()
  std::string wordnet_dir;                     // "" = WordNet's default
};

// Data files the metrics need, loaded once and shared (jieba only when a metric tokenises with it,
// WordNet only for METEOR).
struct ScoringResources {
  std::shared_ptr<const JiebaSegmenter> jieba;
  std::shared_ptr<const WordNet> wordnet;
};
ScoringResources load_scoring_resources(const ScoringOptions& options);

struct MetricValue {
  std::string name;
  std::optional<double> value;  // nullopt: undefined (e.g. Distinct-2 with no bigram at all)
  std::optional<Interval> ci95; // per-example metrics when bootstrapping
  std::string signature;
  std::string aggregate;        // "mean" | "corpus"
  std::string note;             // why a value is undefined, counts behind a corpus value, ...
  std::map<std::string, long long> counts;  // e.g. unique/total n-grams
};

struct ScoringResult {
  size_t n_pairs = 0;
  size_t empty_hyp = 0, empty_ref = 0;
  std::vector<std::string> per_example_names;        // column order of per_example
  std::vector<std::vector<double>> per_example;      // [metric][pair]
  std::vector<MetricValue> corpus;                   // in the order of options.metrics
};

class Scorer {
 public:
  Scorer(ScoringOptions options, ScoringResources resources);
  ~Scorer();
  Scorer(Scorer&&) noexcept;
  Scorer& operator=(Scorer&&) noexcept;

  // Installs the hook for external metrics (see ExternalPairMetric); before the first add().
  void set_external(ExternalPairMetric metric);

  // Scores one pair; returns its index.
  size_t add(const std::string& hypothesis, const std::string& reference);

  // Scores a batch of pairs on `threads` threads (the per-pair metrics run in parallel; corpus
  // counts are merged in input order, so the result equals add() called pair by pair).
  void add_batch(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references,
                 int threads);

  // Corpus values, signatures and bootstrap intervals. Call once, after the last add().
  ScoringResult finish();

  const ScoringOptions& options() const;
  // The signature of one metric under these options (sacrebleu style, '|'-separated key:value).
  std::string signature(const std::string& metric) const;

 struct State;  // (public only so that file-local helpers in scoring.cpp can read it)

 private:
  std::unique_ptr<State> s_;
};

// psy's version as signatures print it.
std::string psy_version();

}  // namespace psy::eval
