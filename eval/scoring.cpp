#include "eval/scoring.h"

#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <thread>

#include "eval/jieba_segmenter.h"
#include "eval/meteor.h"
#include "eval/rouge.h"
#include "eval/text_tokenizers.h"
#include "eval/vocabulary.h"
#include "eval/wordnet.h"
#include "libpsy/core/error.h"

#ifndef PSY_EVAL_VERSION
#define PSY_EVAL_VERSION "0.0.0"
#endif

namespace psy::eval {

std::string psy_version() { return PSY_EVAL_VERSION; }

Protocol parse_protocol(const std::string& name) {
  if (name == "psy-insight") return Protocol::psy_insight;
  if (name == "standard") return Protocol::standard;
  throw Error("unknown protocol: " + expected_found("psy-insight or standard", "'" + name + "'"));
}

std::string to_string(Protocol p) { return p == Protocol::psy_insight ? "psy-insight" : "standard"; }

const std::vector<std::string>& known_metrics() {
  static const std::vector<std::string> names = {
      "bleu1",        "bleu2",        "bleu3",        "bleu4",       "meteor",      "rouge1",      "rouge1_p",
      "rouge1_r",     "rouge2",       "rouge2_p",     "rouge2_r",    "rougeL",      "rougeL_p",    "rougeL_r",
      "rougeLsum",    "rougeLsum_p",  "rougeLsum_r",  "bertscore_p", "bertscore_r", "bertscore_f", "corpus_bleu1",
      "corpus_bleu2", "corpus_bleu3", "corpus_bleu4", "sacrebleu",   "distinct1",   "distinct2",   "distinct3",
      "ead"};
  return names;
}

bool is_per_example_metric(const std::string& name) {
  return name.rfind("bleu", 0) == 0 || name == "meteor" || name.rfind("rouge", 0) == 0 ||
         name.rfind("bertscore_", 0) == 0;
}

std::vector<std::string> parse_metric_list(const std::string& csv) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= csv.size()) {
    size_t comma = csv.find(',', pos);
    if (comma == std::string::npos) comma = csv.size();
    std::string name = csv.substr(pos, comma - pos);
    while (!name.empty() && name.front() == ' ') name.erase(name.begin());
    while (!name.empty() && name.back() == ' ') name.pop_back();
    pos = comma + 1;
    if (name.empty()) continue;
    bool known = false;
    for (const auto& k : known_metrics()) known = known || k == name;
    if (!known) {
      std::string all;
      for (const auto& k : known_metrics()) all += (all.empty() ? "" : ", ") + k;
      throw Error("unknown metric '" + name + "' (valid: " + all + ")");
    }
    bool dup = false;
    for (const auto& o : out) dup = dup || o == name;
    if (!dup) out.push_back(name);
  }
  if (out.empty()) throw Error("no metric given (e.g. --metrics bleu1,bleu3,meteor,rougeL,distinct2)");
  return out;
}

namespace {

int order_of(const std::string& name) { return name.back() - '0'; }

// rouge1, rouge2, rougeL, rougeLsum (without the _p / _r suffix).
std::string rouge_kind(const std::string& name) { return name.substr(0, name.find('_')); }
char rouge_part(const std::string& name) {
  const size_t u = name.find('_');
  return u == std::string::npos ? 'f' : name[u + 1];
}

bool uses(const std::vector<std::string>& metrics, const std::string& prefix) {
  for (const auto& m : metrics)
    if (m.rfind(prefix, 0) == 0) return true;
  return false;
}

bool needs_jieba(const ScoringOptions& o) {
  if (o.protocol == Protocol::psy_insight || o.lang == "zh") {
    for (const auto& m : o.metrics)
      if (m.rfind("bertscore_", 0) != 0) return true;
  }
  return false;
}

std::string join_space(const std::vector<std::string>& toks) {
  std::string out;
  for (size_t i = 0; i < toks.size(); ++i) {
    if (i) out.push_back(' ');
    out += toks[i];
  }
  return out;
}

}  // namespace

ScoringResources load_scoring_resources(const ScoringOptions& o) {
  ScoringResources r;
  if (needs_jieba(o)) r.jieba = std::make_shared<const JiebaSegmenter>(JiebaSegmenter::load(o.jieba_dir));
  if (uses(o.metrics, "meteor")) r.wordnet = std::make_shared<const WordNet>(WordNet::load(o.wordnet_dir));
  return r;
}

struct PairOutcome;

// What one thread needs to score pairs: a vocabulary that turns tokens into ids once for all the
// metrics, METEOR's memo of lower-case forms, stems and synonyms (on the same ids), and scratch
// buffers. One per worker thread, kept across batches; never shared between threads.
struct PairContext {
  static constexpr size_t kMaxVocabulary = size_t{1} << 20;  // bounded memory: cleared beyond this
  Vocabulary vocab;
  std::unique_ptr<MeteorScorer> meteor;  // uses vocab
  std::unique_ptr<DistinctCounter> distinct;  // this thread's pairs; merged by finish()
  std::vector<std::string_view> views, hyp_views;
  std::vector<uint32_t> hyp_ids, ref_ids, hyp_meteor_ids, ref_meteor_ids, hyp_rouge_ids, ref_rouge_ids;
  std::vector<uint32_t> hyp_sacre_ids, ref_sacre_ids;
  Sacre13aBuffers sacre_buffers;
  std::vector<std::vector<uint32_t>> hyp_sents, ref_sents;
  std::string rouge_storage;

  void start_pair() {
    if (vocab.size() > kMaxVocabulary) vocab.clear();
  }
  void intern(const std::vector<std::string>& tokens, std::vector<uint32_t>& ids) {
    ids.clear();
    for (const auto& t : tokens) ids.push_back(vocab.id(t));
  }
  void intern(const std::vector<std::string_view>& tokens, std::vector<uint32_t>& ids) {
    ids.clear();
    for (const auto t : tokens) ids.push_back(vocab.id(t));
  }
};

struct Scorer::State {
  ScoringOptions o;
  ScoringResources res;
  std::optional<ExternalPairMetric> external;
  std::vector<std::string> pending_hyps, pending_refs;
  size_t pending_first = 0;

  std::vector<std::string> per_example_names;
  std::vector<std::vector<double>> columns;
  int bleu_order = 0;  // highest order any BLEU metric needs
  std::vector<std::vector<double>> bleu_weights;  // [n]: bleu_weights(n), n = 1..4
  bool want_meteor = false, want_rouge = false, want_corpus_bleu = false, want_distinct = false;
  bool want_rouge_n[3] = {false, false, false}, want_rouge_l = false, want_rouge_lsum = false;
  bool want_sacrebleu = false;
  SacreBleuOptions sacre;
  BleuCounts corpus_counts;
  SacreBleuStats sacre_counts;
  std::unique_ptr<DistinctCounter> distinct;
  size_t n = 0, empty_hyp = 0, empty_ref = 0;
  bool finished = false;
  std::vector<std::unique_ptr<PairContext>> contexts;  // [worker]

  PairContext& context(size_t worker) {
    while (contexts.size() <= worker) {
      contexts.push_back(std::make_unique<PairContext>());
      if (want_meteor) contexts.back()->meteor = std::make_unique<MeteorScorer>(*res.wordnet, contexts.back()->vocab);
      if (want_distinct) contexts.back()->distinct = std::make_unique<DistinctCounter>(distinct->max_n(), distinct->left_pad());
    }
    return *contexts[worker];
  }

  int column_of(const std::string& name) const {
    for (size_t i = 0; i < per_example_names.size(); ++i)
      if (per_example_names[i] == name) return static_cast<int>(i);
    return -1;
  }
  void flush_external();
  void commit(PairOutcome&& p, const std::string& hyp, const std::string& ref);
};

Scorer::Scorer(ScoringOptions options, ScoringResources resources) : s_(std::make_unique<State>()) {
  auto& s = *s_;
  s.o = std::move(options);
  s.res = std::move(resources);
  if (s.o.lang != "en" && s.o.lang != "zh") throw Error("language " + expected_found("en or zh", "'" + s.o.lang + "'"));
  if (s.o.metrics.empty()) throw Error("no metric given");
  for (const auto& m : s.o.metrics) {
    if (is_per_example_metric(m)) {
      s.per_example_names.push_back(m);
      s.columns.emplace_back();
    }
    if (m.rfind("bleu", 0) == 0) s.bleu_order = std::max(s.bleu_order, order_of(m));
    if (m.rfind("corpus_bleu", 0) == 0) {
      s.bleu_order = std::max(s.bleu_order, order_of(m));
      s.want_corpus_bleu = true;
    }
    if (m == "meteor") s.want_meteor = true;
    if (m.rfind("rouge", 0) == 0) {
      s.want_rouge = true;
      const std::string kind = rouge_kind(m);
      if (kind == "rouge1") s.want_rouge_n[1] = true;
      if (kind == "rouge2") s.want_rouge_n[2] = true;
      if (kind == "rougeL") s.want_rouge_l = true;
      if (kind == "rougeLsum") s.want_rouge_lsum = true;
    }
    if (m == "sacrebleu") s.want_sacrebleu = true;
    if (m.rfind("distinct", 0) == 0 || m == "ead") s.want_distinct = true;
  }
  if (s.want_distinct) {
    if (s.o.protocol == Protocol::psy_insight) {
      s.distinct = std::make_unique<DistinctCounter>(3, true);
    } else {
      int max_n = 1;
      for (const auto& m : s.o.metrics)
        if (m.rfind("distinct", 0) == 0) max_n = std::max(max_n, order_of(m));
      s.distinct = std::make_unique<DistinctCounter>(max_n, false);
    }
  }
  if (s.o.rouge_stem && (s.o.protocol == Protocol::psy_insight || s.o.lang != "en"))
    throw Error("the ROUGE stemmer applies to the standard protocol in English (the paper's code has none; "
                "rouge_score's stemmer is English)");
  if (s.o.zh_rouge_tokens != "jieba" && s.o.zh_rouge_tokens != "char")
    throw Error("Chinese ROUGE tokens " + expected_found("jieba or char", "'" + s.o.zh_rouge_tokens + "'"));
  if (s.o.zh_rouge_tokens == "char" && s.o.protocol == Protocol::psy_insight)
    throw Error("character ROUGE tokens are for the standard protocol (psy-insight uses jieba tokens for Chinese)");
  s.sacre.tokenizer = parse_sacrebleu_tokenizer(
      s.o.sacrebleu_tokenize.empty() ? (s.o.lang == "zh" ? "zh" : "13a") : s.o.sacrebleu_tokenize);
  s.sacre.smooth = s.o.sacrebleu_smooth;
  s.sacre.smooth_value = s.o.sacrebleu_smooth_value;
  s.corpus_counts.max_order = std::max(1, s.bleu_order);
  s.bleu_weights.resize(kMaxBleuOrder + 1);
  for (int n = 1; n <= kMaxBleuOrder; ++n) s.bleu_weights[static_cast<size_t>(n)] = bleu_weights(n);
  if (needs_jieba(s.o) && !s.res.jieba)
    s.res.jieba = std::make_shared<const JiebaSegmenter>(JiebaSegmenter::load(s.o.jieba_dir));
  if (s.want_meteor && !s.res.wordnet) s.res.wordnet = std::make_shared<const WordNet>(WordNet::load(s.o.wordnet_dir));
}

Scorer::~Scorer() = default;
Scorer::Scorer(Scorer&&) noexcept = default;
Scorer& Scorer::operator=(Scorer&&) noexcept = default;

const ScoringOptions& Scorer::options() const { return s_->o; }

void Scorer::set_external(ExternalPairMetric metric) {
  if (s_->n > 0) throw Error("Scorer::set_external must be called before the first pair", kExitFailure);
  if (!metric.score_batch) throw Error("external metric without a scorer", kExitFailure);
  if (metric.batch_size == 0) metric.batch_size = 1;
  s_->external = std::move(metric);
}

void Scorer::State::flush_external() {
  if (!external || pending_hyps.empty()) return;
  const auto rows = external->score_batch(pending_hyps, pending_refs);
  if (rows.size() != pending_hyps.size())
    throw Error("external metric returned " + std::to_string(rows.size()) + " rows for " +
                    std::to_string(pending_hyps.size()) + " pairs",
                kExitFailure);
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != external->names.size())
      throw Error("external metric returned a row of " + std::to_string(rows[r].size()) + " values, " +
                      expected_found(std::to_string(external->names.size()), std::to_string(rows[r].size())),
                  kExitFailure);
    for (size_t k = 0; k < external->names.size(); ++k) {
      const int col = column_of(external->names[k]);
      if (col >= 0) columns[static_cast<size_t>(col)][pending_first + r] = rows[r][k];
    }
  }
  pending_hyps.clear();
  pending_refs.clear();
}

// Everything one pair contributes, computed without touching the Scorer's state (so pairs can be
// computed on several threads) and then committed in input order.
struct PairOutcome {
  std::vector<double> values;  // per column; NaN for external metrics
  BleuCounts counts;
  SacreBleuStats sacre;
  bool empty_hyp = false, empty_ref = false;
};

namespace {

PairOutcome compute_pair(const Scorer::State& s, PairContext& ctx, const std::string& hyp, const std::string& ref) {
  PairOutcome out;
  out.empty_hyp = is_blank(hyp);
  out.empty_ref = is_blank(ref);
  out.values.assign(s.columns.size(), std::numeric_limits<double>::quiet_NaN());
  ctx.start_pair();

  // Tokens for this pair under the protocol, as ids of ctx.vocab.
  std::vector<std::string> hyp_main;                 // Distinct's tokens, jieba side
  std::vector<uint32_t>& hyp_ids = ctx.hyp_ids;      // BLEU (and standard METEOR / Distinct)
  std::vector<uint32_t>& ref_ids = ctx.ref_ids;
  const bool jieba_side = s.o.protocol == Protocol::psy_insight || s.o.lang == "zh";
  const bool need_main = s.bleu_order > 0 || s.want_meteor || s.want_distinct || (s.want_rouge && s.o.lang == "zh");
  hyp_ids.clear();
  ref_ids.clear();
  if (need_main) {
    if (jieba_side) {
      auto hj = s.res.jieba->cut(hyp);
      auto rj = s.res.jieba->cut(ref);
      if (s.o.protocol == Protocol::psy_insight) {
        // The paper's code runs the module on the raw hypothesis; for Chinese we keep the jieba-joined
        // text (our reconstruction: the paper reports no Chinese Distinct).
        if (s.want_distinct) hyp_main = tokenize_13a(s.o.lang == "zh" ? std::string_view(join_space(hj)) : std::string_view(hyp));
        if (s.want_meteor) {  // METEOR's tokens keep the spaces
          ctx.intern(hj, ctx.hyp_meteor_ids);
          ctx.intern(rj, ctx.ref_meteor_ids);
        }
      }
      auto hyp_ws = JiebaSegmenter::without_space(std::move(hj));
      ctx.intern(hyp_ws, hyp_ids);
      if (s.o.protocol != Protocol::psy_insight) hyp_main = std::move(hyp_ws);
      ctx.intern(JiebaSegmenter::without_space(std::move(rj)), ref_ids);
    } else {
      split_whitespace_views(hyp, ctx.hyp_views);
      ctx.intern(ctx.hyp_views, hyp_ids);
      split_whitespace_views(ref, ctx.views);
      ctx.intern(ctx.views, ref_ids);
    }
  }

  if (s.bleu_order > 0) {
    out.counts = bleu_counts_ids(ref_ids, hyp_ids, s.bleu_order);
    for (size_t c = 0; c < s.per_example_names.size(); ++c) {
      const auto& name = s.per_example_names[c];
      if (name.rfind("bleu", 0) == 0)
        out.values[c] = bleu_from_counts(out.counts, s.bleu_weights[static_cast<size_t>(order_of(name))], s.o.smoothing);
    }
  }
  if (s.want_meteor) {
    double v;
    if (s.o.protocol == Protocol::psy_insight) {
      v = ctx.meteor->single_ids(ctx.hyp_meteor_ids, ctx.ref_meteor_ids);  // swapped, as the paper's code
    } else {
      v = ctx.meteor->single_ids(ref_ids, hyp_ids);
    }
    out.values[static_cast<size_t>(s.column_of("meteor"))] = v;
  }
  if (s.want_rouge) {
    // The tokens of one text as ROUGE sees them, as ids of ctx.vocab.
    const bool chars = s.o.lang == "zh" && s.o.zh_rouge_tokens == "char";
    auto rouge_ids = [&](std::string_view text, std::vector<uint32_t>& ids) {
      if (s.o.lang == "zh") {
        if (chars) {
          ctx.intern(split_chars(text), ids);
        } else {
          ctx.intern(JiebaSegmenter::without_space(s.res.jieba->cut(std::string(text))), ids);
        }
      } else if (s.o.rouge_stem) {
        ctx.intern(rouge_tokenize_stemmed(text), ids);
      } else {
        rouge_tokenize_views(text, ctx.rouge_storage, ctx.views);
        ctx.intern(ctx.views, ids);
      }
    };
    const std::vector<uint32_t>* rr = &ctx.ref_rouge_ids;
    const std::vector<uint32_t>* hr = &ctx.hyp_rouge_ids;
    if (s.o.lang == "zh" && !chars) {  // the jieba tokens BLEU already has
      rr = &ref_ids;
      hr = &hyp_ids;
    } else {
      rouge_ids(ref, ctx.ref_rouge_ids);
      rouge_ids(hyp, ctx.hyp_rouge_ids);
    }
    RougeScore by_kind[4];  // rouge1, rouge2, rougeL, rougeLsum
    if (s.want_rouge_n[1]) by_kind[0] = rouge_n_ids(*rr, *hr, 1);
    if (s.want_rouge_n[2]) by_kind[1] = rouge_n_ids(*rr, *hr, 2);
    if (s.want_rouge_l || s.want_rouge_lsum) by_kind[2] = rouge_l_ids(*rr, *hr);
    if (s.want_rouge_lsum) {
      // rouge_score splits on "\n"; a text without one is one sentence, and then Lsum = L.
      if (hyp.find('\n') == std::string::npos && ref.find('\n') == std::string::npos) {
        by_kind[3] = by_kind[2];
      } else {
        auto sentences = [&](const std::string& text, std::vector<std::vector<uint32_t>>& out) {
          const auto parts = rouge_lsum_sentences(text);
          out.resize(parts.size());
          for (size_t i = 0; i < parts.size(); ++i) rouge_ids(parts[i], out[i]);
        };
        sentences(ref, ctx.ref_sents);
        sentences(hyp, ctx.hyp_sents);
        by_kind[3] = rouge_lsum_ids(ctx.ref_sents, ctx.hyp_sents);
      }
    }
    for (size_t c = 0; c < s.per_example_names.size(); ++c) {
      const auto& name = s.per_example_names[c];
      if (name.rfind("rouge", 0) != 0) continue;
      const std::string kind = rouge_kind(name);
      const RougeScore& r = by_kind[kind == "rouge1" ? 0 : kind == "rouge2" ? 1 : kind == "rougeL" ? 2 : 3];
      const char part = rouge_part(name);
      out.values[c] = part == 'p' ? r.precision : part == 'r' ? r.recall : r.fmeasure;
    }
  }
  if (s.want_sacrebleu) {
    sacrebleu_tokenize_views(hyp, s.sacre.tokenizer, ctx.sacre_buffers, ctx.views);
    ctx.intern(ctx.views, ctx.hyp_sacre_ids);
    sacrebleu_tokenize_views(ref, s.sacre.tokenizer, ctx.sacre_buffers, ctx.views);
    ctx.intern(ctx.views, ctx.ref_sacre_ids);
    const BleuCounts c = bleu_counts_ids(ctx.ref_sacre_ids, ctx.hyp_sacre_ids, SacreBleuStats::kOrder);
    const auto len = static_cast<int64_t>(ctx.hyp_sacre_ids.size());
    for (size_t n = 0; n < SacreBleuStats::kOrder; ++n) {
      out.sacre.correct[n] = c.numerator[n];
      out.sacre.total[n] = std::max<int64_t>(0, len - static_cast<int64_t>(n));
    }
    out.sacre.sys_len = len;
    out.sacre.ref_len = static_cast<int64_t>(ctx.ref_sacre_ids.size());
  }
  // Last, when nothing can throw any more (a pair counts in full or not at all).
  if (s.want_distinct) {
    if (jieba_side) {
      ctx.distinct->add(hyp_main);
    } else {
      ctx.distinct->add_views(ctx.hyp_views);
    }
  }
  return out;
}

}  // namespace

void Scorer::State::commit(PairOutcome&& p, const std::string& hyp, const std::string& ref) {
  const size_t index = n++;
  if (p.empty_hyp) ++empty_hyp;
  if (p.empty_ref) ++empty_ref;
  for (size_t c = 0; c < columns.size(); ++c) columns[c].push_back(p.values[c]);
  if (want_corpus_bleu) corpus_counts += p.counts;
  if (want_sacrebleu) sacre_counts += p.sacre;
  if (external) {
    if (pending_hyps.empty()) pending_first = index;
    pending_hyps.push_back(hyp);
    pending_refs.push_back(ref);
    if (pending_hyps.size() >= external->batch_size) flush_external();
  }
}

size_t Scorer::add(const std::string& hyp, const std::string& ref) {
  auto& s = *s_;
  if (s.finished) throw Error("Scorer::add after finish()", kExitFailure);
  s.commit(compute_pair(s, s.context(0), hyp, ref), hyp, ref);
  return s.n - 1;
}

void Scorer::add_batch(const std::vector<std::string>& hyps, const std::vector<std::string>& refs, int threads) {
  auto& s = *s_;
  if (s.finished) throw Error("Scorer::add_batch after finish()", kExitFailure);
  if (hyps.size() != refs.size())
    throw Error("Scorer::add_batch: " + expected_found(std::to_string(hyps.size()) + " references",
                                                       std::to_string(refs.size())),
                kExitFailure);
  const size_t n = hyps.size();
  std::vector<PairOutcome> outcomes(n);
  const size_t workers = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(std::max(1, threads)), n));
  for (size_t w = 0; w < workers; ++w) s.context(w);  // created here, before the threads start
  // Workers take consecutive blocks of pairs from a shared counter (balanced whatever the pair
  // lengths); the calling thread is worker 0.
  constexpr size_t kBlock = 4;
  std::atomic<size_t> next{0};
  auto work = [&](size_t w) {
    PairContext& ctx = *s.contexts[w];
    for (size_t b = next.fetch_add(kBlock); b < n; b = next.fetch_add(kBlock))
      for (size_t i = b; i < std::min(n, b + kBlock); ++i) outcomes[i] = compute_pair(s, ctx, hyps[i], refs[i]);
  };
  if (workers == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(workers);
    auto guarded = [&](size_t w) {
      try {
        work(w);
      } catch (...) {
        errors[w] = std::current_exception();
        next.store(n);  // the others stop at their next block
      }
    };
    for (size_t w = 1; w < workers; ++w) pool.emplace_back(guarded, w);
    guarded(0);
    for (auto& t : pool) t.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }
  for (size_t i = 0; i < n; ++i) s.commit(std::move(outcomes[i]), hyps[i], refs[i]);
}

std::string Scorer::signature(const std::string& m) const {
  const auto& o = s_->o;
  const bool psy = o.protocol == Protocol::psy_insight;
  const bool jieba_side = psy || o.lang == "zh";
  std::string jieba = s_->res.jieba ? s_->res.jieba->version() : std::string("0.42.1");
  // The protocol's tokens depend on the language under both protocols.
  const std::string tail = "|protocol:" + to_string(o.protocol) + "|lang:" + o.lang;
  std::string sig = m;
  auto with_jieba = [&](bool used) { return used ? "|jieba:" + jieba : std::string(); };
  if (m.rfind("bleu", 0) == 0 || m.rfind("corpus_bleu", 0) == 0) {
    sig += std::string("|tok:") + (jieba_side ? "jieba_ws" : "ws") + "|smooth:" + to_string(o.smoothing) +
           "|impl:nltk3.8|agg:" + (m.rfind("bleu", 0) == 0 ? "mean" : "corpus") + tail + with_jieba(jieba_side);
  } else if (m == "meteor") {
    sig += std::string("|tok:") + (psy ? "jieba" : jieba_side ? "jieba_ws" : "ws") +
           "|args:" + (psy ? "swapped" : "ref-hyp") +
           "|alpha:0.9|beta:3|gamma:0.5|stem:porter-nltk3.8|wordnet:3.0|impl:nltk3.8|agg:mean" + tail +
           with_jieba(jieba_side);
  } else if (m.rfind("rouge", 0) == 0) {
    const char part = rouge_part(m);
    const bool zh = o.lang == "zh";
    std::string tok = zh ? (o.zh_rouge_tokens == "char" ? "char" : "jieba_ws")
                         : (o.rouge_stem ? "rouge_default+porter" : "rouge_default");
    if (psy && !zh) tok += "(raw)";
    sig += "|tok:" + tok;
    if (rouge_kind(m) == "rougeLsum") sig += "|sents:newline";
    sig += std::string("|score:") + part + "|impl:rouge_score0.1.2|agg:mean" + tail +
           with_jieba(zh && o.zh_rouge_tokens != "char");
    if (psy && zh) sig += "|zh:reconstruction(main.py:0)";
  } else if (m == "sacrebleu") {
    return m + "|" + sacrebleu_signature(s_->sacre) + "|impl:psy" + tail + "|psy:" + psy_version();
  } else if (m.rfind("distinct", 0) == 0 || m == "ead") {
    if (psy) {
      sig += o.lang == "zh" ? "|tok:13a(jieba_joined)" : "|tok:13a(raw)";
      sig += "|pad:left<s>|impl:lsy641";
      if (m == "ead") sig += "|V:" + std::to_string(o.vocab_size);
      sig += m == "ead" ? "|div:none" : "|div:n_pairs";
    } else {
      sig += std::string("|tok:") + (jieba_side ? "jieba_ws" : "ws") + "|pad:none";
      if (m == "ead") sig += "|V:" + std::to_string(o.vocab_size);
    }
    sig += "|agg:corpus" + tail + with_jieba(o.lang == "zh");
    if (psy && o.lang == "zh") sig += "|zh:reconstruction";
  } else if (m.rfind("bertscore_", 0) == 0) {
    if (s_->external && s_->external->signatures.count(m)) return s_->external->signatures.at(m);
    sig += "|agg:mean" + tail;
  }
  return sig + "|psy:" + psy_version();
}

ScoringResult Scorer::finish() {
  auto& s = *s_;
  if (s.finished) throw Error("Scorer::finish called twice", kExitFailure);
  s.flush_external();
  if (s.distinct)  // the worker threads' Distinct counts, in one counter
    for (const auto& ctx : s.contexts)
      if (ctx->distinct) s.distinct->merge(*ctx->distinct);
  s.finished = true;
  ScoringResult out;
  out.n_pairs = s.n;
  out.empty_hyp = s.empty_hyp;
  out.empty_ref = s.empty_ref;
  out.per_example_names = s.per_example_names;

  // Columns an external metric should have filled but could not (no hook installed).
  std::vector<bool> missing(s.columns.size(), false);
  for (size_t c = 0; c < s.columns.size(); ++c)
    for (double v : s.columns[c]) missing[c] = missing[c] || std::isnan(v);

  std::vector<Interval> cis;
  std::vector<const std::vector<double>*> boot_cols;
  std::vector<size_t> boot_index;
  if (s.o.bootstrap_resamples > 0 && s.n > 0) {
    for (size_t c = 0; c < s.columns.size(); ++c)
      if (!missing[c]) {
        boot_cols.push_back(&s.columns[c]);
        boot_index.push_back(c);
      }
    cis = bootstrap_mean_ci(boot_cols, s.o.bootstrap_resamples, s.o.seed);
  }

  std::optional<Lsy641Distinct> lsy;
  if (s.distinct && s.o.protocol == Protocol::psy_insight) lsy = lsy641_distinct(*s.distinct, s.o.vocab_size);

  for (const auto& m : s.o.metrics) {
    MetricValue v;
    v.name = m;
    v.signature = signature(m);
    const int col = s.column_of(m);
    if (col >= 0) {
      v.aggregate = "mean";
      const auto c = static_cast<size_t>(col);
      if (missing[c]) {
        v.note = m.rfind("bertscore_", 0) == 0 ? "BERTScore is not available in this build (eval/bertscore)"
                                               : "no value computed";
      } else if (s.n == 0) {
        v.note = "no pairs";
      } else {
        v.value = mean_of(s.columns[c]);
        for (size_t k = 0; k < boot_index.size(); ++k)
          if (boot_index[k] == c) v.ci95 = cis[k];
      }
    } else {
      v.aggregate = "corpus";
      if (m == "sacrebleu") {
        if (s.n == 0) {
          v.note = "no pairs";
        } else {
          v.value = sacrebleu_score(s.sacre_counts, s.sacre);
          v.note = "0..100 as sacrebleu reports it";
          v.counts["sys_len"] = s.sacre_counts.sys_len;
          v.counts["ref_len"] = s.sacre_counts.ref_len;
          for (size_t k = 0; k < SacreBleuStats::kOrder; ++k) {
            v.counts["correct" + std::to_string(k + 1)] = s.sacre_counts.correct[k];
            v.counts["total" + std::to_string(k + 1)] = s.sacre_counts.total[k];
          }
        }
      } else if (m.rfind("corpus_bleu", 0) == 0) {
        if (s.n == 0) {
          v.note = "no pairs";
        } else {
          v.value = bleu_from_counts(s.corpus_counts, bleu_weights(order_of(m)), s.o.smoothing);
        }
      } else if (m.rfind("distinct", 0) == 0) {
        const int n = order_of(m);
        v.counts["unique"] = static_cast<long long>(s.distinct->unique(n));
        v.counts["total"] = static_cast<long long>(s.distinct->total(n));
        if (s.o.protocol == Protocol::psy_insight) {
          if (lsy) {
            const double d = n == 1 ? lsy->distinct1 : n == 2 ? lsy->distinct2 : lsy->distinct3;
            v.value = d / static_cast<double>(s.n);
            v.note = "lsy641/distinct Distinct-" + std::to_string(n) + " = " + std::to_string(d) +
                     ", divided by the " + std::to_string(s.n) + " pairs as the paper reported it";
          } else {
            v.note = "undefined: no tokens in any hypothesis (the lsy641/distinct module raises ZeroDivisionError)";
          }
        } else {
          v.value = s.distinct->distinct(n);
          if (!v.value) v.note = "undefined: no " + std::to_string(n) + "-gram in any hypothesis";
        }
      } else if (m == "ead") {
        v.counts["unique"] = static_cast<long long>(s.distinct->unique(1));
        v.counts["total"] = static_cast<long long>(s.distinct->total(1));
        if (s.o.protocol == Protocol::psy_insight) {
          if (lsy) v.value = lsy->ead;
        } else {
          v.value = expectation_adjusted_distinct(s.distinct->unique(1), s.distinct->total(1), s.o.vocab_size);
        }
        if (!v.value) v.note = "undefined: no tokens in any hypothesis";
      }
    }
    out.corpus.push_back(std::move(v));
  }
  out.per_example = std::move(s.columns);
  return out;
}

}  // namespace psy::eval
