// psy score: lexical metrics (BLEU, sacreBLEU, METEOR, ROUGE-1/2/L/Lsum, Distinct, EAD) of predictions against
// references, under the Psy-Insight paper's protocol or the corrected standard one, with a
// signature per metric, bootstrap confidence intervals, and a paired bootstrap test (--compare).
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "eval/metric_json.h"
#include "eval/bertscore/bertscore_metric.h"
#include "eval/scoring.h"
#include "libpsy/core/atomic_file.h"
#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/core/jsonl_reader.h"
#include "libpsy/core/utf8.h"
#include "trainers/commands.h"

namespace psy::cli {

namespace {

using nlohmann::ordered_json;

const char* kScoreEpilog = R"(Input (JSON Lines, UTF-8, one object per line; blank lines are skipped):
  --pred alone:  each line holds "hyp" (or "prediction") and "ref" (or "reference"); "id" optional.
  --pred + --ref: predictions and references are paired by "id" (a string or an integer); the
                 prediction text is "hyp" (or "prediction"), the reference "ref" (or "reference").
                 The reference file is read into memory (texts only); predictions are streamed.
Defined behaviour for problem input (exit code 2 unless said otherwise):
  - invalid UTF-8, a line that is not a JSON object, a missing or non-string text field: an error
    naming FILE:LINE (Python's json/utf-8 readers also refuse such input);
  - a duplicate id in either file: an error naming both lines;
  - a prediction whose id has no reference: an error; references without a prediction are
    reported on stderr and counted in metrics.json ("unpaired_references"), the rest is scored;
  - empty or whitespace-only texts are scored as the reference implementations score them
    (BLEU, METEOR, ROUGE-L 0; no n-grams for Distinct), counted ("empty_hyp", "empty_ref") and
    reported on stderr; Distinct with no n-gram at all is undefined: value null with a note.
Protocols (eval/README.md):
  psy-insight  the paper's auto-eval/main.py: BLEU = mean of NLTK sentence_bleu (method1) on jieba
               tokens without spaces, METEOR with hypothesis and reference swapped on jieba tokens
               (spaces kept); English: ROUGE F of rouge_score on the raw strings (default tokenizer,
               no stemmer), Distinct-n = lsy641/distinct on the raw hypotheses (13a) divided by the
               number of pairs. Chinese (our reconstruction; main.py gives ROUGE 0 there): ROUGE on
               jieba tokens, Distinct on the jieba-joined hypotheses.
  standard     METEOR the right way round, Distinct not divided (plain corpus Distinct-n), tokens per
               language: en = whitespace split (rouge_score's own tokenizer for ROUGE, --rouge-stem
               for its stemmer), zh = jieba (--rouge-tokens char: characters for ROUGE).
Metrics: bleu1..bleu4 meteor rouge1 rouge2 rougeL rougeLsum (F; add _p or _r for precision or recall)
  (per pair, corpus value = mean with a 95% bootstrap CI), corpus_bleu1..4 (NLTK) sacrebleu (sacrebleu
  2.x corpus BLEU, 0..100, --sacrebleu-tokenize/--sacrebleu-smooth) distinct1..3 ead (corpus level),
  bertscore_p/r/f (with --bertscore-model).
Output: a table on stdout; --out writes metrics.json (value, ci95, signature, aggregate, counts).
--compare A B scores two prediction files on the same ids and runs a paired bootstrap test per
  per-pair metric (p = share of resamples where the leading system is not ahead).
Exit codes: 0 ok, 2 bad input or usage, 1 missing data files (jieba, WordNet) or failed writes.)";

struct Pair {
  std::string id, hyp, ref;
  long line = 0;
};

// Reads JSON Lines one object at a time (the one JSONL reader: errors name FILE:LINE, invalid
// UTF-8 FILE:LINE:COLUMN), with the field helpers below.
class JsonLines {
 public:
  explicit JsonLines(const std::string& path) : path_(path), reader_(JsonlReader::open(path, options())) {}
  // Next non-blank line as a JSON object; false at the end.
  bool next(nlohmann::json& obj) {
    JsonLine line;
    if (!reader_.next(line)) return false;
    line_no_ = line.line;
    obj = std::move(line.value);
    return true;
  }
  long line() const { return line_no_; }
  const std::string& path() const { return path_; }
  static JsonlOptions options() {
    JsonlOptions o;
    o.objects_only = true;
    o.check_utf8 = true;
    return o;
  }

  // The text under the first of `keys` present; "" and false when none is.
  bool text(const nlohmann::json& obj, std::initializer_list<const char*> keys, std::string& out) const {
    for (const char* k : keys) {
      auto it = obj.find(k);
      if (it == obj.end()) continue;
      if (!it->is_string())
        throw Error(ErrorLocation{path_, line_no_, 0, "", "", k}, expected_found("a string", it->type_name()));
      out = it->get<std::string>();
      return true;
    }
    return false;
  }
  // The id as a string (integers in decimal); "" when absent.
  std::string id(const nlohmann::json& obj) const {
    auto it = obj.find("id");
    if (it == obj.end()) return "";
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_integer()) return std::to_string(it->get<long long>());
    throw Error(ErrorLocation{path_, line_no_, 0, "", "", "id"}, expected_found("a string or an integer", it->type_name()));
  }

 private:
  std::string path_;
  JsonlReader reader_;
  long line_no_ = 0;
};

std::string where(const std::string& path, long line) { return path + ":" + std::to_string(line); }

// Streams the pairs of one prediction file (paired with `refs` when given) into `fn`.
struct RefTable {
  std::string path;
  std::unordered_map<std::string, std::pair<std::string, long>> by_id;  // id -> (text, line)
};

RefTable load_refs(const std::string& path) {
  RefTable t;
  t.path = path;
  JsonLines in(path);
  nlohmann::json obj;
  while (in.next(obj)) {
    const std::string id = in.id(obj);
    if (id.empty()) throw Error(ErrorLocation{path, in.line(), 0, "", "", "id"}, "missing id (needed to pair with predictions)");
    std::string text;
    if (!in.text(obj, {"ref", "reference"}, text))
      throw Error(ErrorLocation{path, in.line(), 0, "id " + id, "", "ref"}, "missing reference text (\"ref\" or \"reference\")");
    auto [it, fresh] = t.by_id.emplace(id, std::make_pair(std::move(text), in.line()));
    if (!fresh)
      throw Error(ErrorLocation{path, in.line(), 0, "id " + id, "", "id"},
                  "duplicate id (first at " + where(path, it->second.second) + ")");
  }
  return t;
}

struct StreamStats {
  size_t unpaired_refs = 0;
  std::string first_unpaired;
};

StreamStats stream_pairs(const std::string& pred_path, const RefTable* refs, const std::function<void(Pair&&)>& fn) {
  JsonLines in(pred_path);
  nlohmann::json obj;
  std::unordered_map<std::string, long> seen;
  while (in.next(obj)) {
    Pair p;
    p.line = in.line();
    p.id = in.id(obj);
    if (!in.text(obj, {"hyp", "prediction"}, p.hyp))
      throw Error(ErrorLocation{pred_path, in.line(), 0, p.id.empty() ? "" : "id " + p.id, "", "hyp"},
                  "missing prediction text (\"hyp\" or \"prediction\")");
    if (refs) {
      if (p.id.empty())
        throw Error(ErrorLocation{pred_path, in.line(), 0, "", "", "id"}, "missing id (needed to pair with --ref)");
      auto it = refs->by_id.find(p.id);
      if (it == refs->by_id.end())
        throw Error(ErrorLocation{pred_path, in.line(), 0, "id " + p.id, "", "id"}, "no reference with this id in " + refs->path);
      p.ref = it->second.first;
    } else if (!in.text(obj, {"ref", "reference"}, p.ref)) {
      throw Error(ErrorLocation{pred_path, in.line(), 0, p.id.empty() ? "" : "id " + p.id, "", "ref"},
                  "missing reference text (\"ref\" or \"reference\"; or give --ref FILE)");
    }
    if (p.id.empty()) p.id = "line:" + std::to_string(in.line());
    auto [sit, fresh] = seen.emplace(p.id, in.line());
    if (!fresh)
      throw Error(ErrorLocation{pred_path, in.line(), 0, "id " + p.id, "", "id"},
                  "duplicate id (first at " + where(pred_path, sit->second) + ")");
    fn(std::move(p));
  }
  StreamStats st;
  if (refs) {
    for (const auto& [id, v] : refs->by_id) {
      if (!seen.count(id)) {
        if (st.unpaired_refs == 0 || id < st.first_unpaired) st.first_unpaired = id;
        ++st.unpaired_refs;
      }
    }
  }
  return st;
}

struct Scored {
  eval::ScoringResult result;
  std::vector<std::string> ids;
  StreamStats stats;
};

Scored score_file(const std::string& pred, const RefTable* refs, const eval::ScoringOptions& opts,
                  const eval::ScoringResources& res, bool keep_ids, int threads,
                  const std::optional<eval::ExternalPairMetric>& bertscore) {
  eval::Scorer scorer(opts, res);
  if (bertscore) scorer.set_external(*bertscore);  // bertscore_p/r/f (eval/bertscore)
  Scored out;
  // Pairs are scored in batches (on `threads` threads); only one batch of texts is held at a time.
  std::vector<std::string> hyps, refs_batch;
  const size_t batch = 256;
  out.stats = stream_pairs(pred, refs, [&](Pair&& p) {
    hyps.push_back(std::move(p.hyp));
    refs_batch.push_back(std::move(p.ref));
    if (keep_ids) out.ids.push_back(std::move(p.id));
    if (hyps.size() >= batch) {
      scorer.add_batch(hyps, refs_batch, threads);
      hyps.clear();
      refs_batch.clear();
    }
  });
  scorer.add_batch(hyps, refs_batch, threads);
  out.result = scorer.finish();
  if (out.stats.unpaired_refs)
    std::cerr << "psy score: warning: " << out.stats.unpaired_refs << " reference" << (out.stats.unpaired_refs == 1 ? "" : "s")
              << " in " << refs->path << " ha" << (out.stats.unpaired_refs == 1 ? "s" : "ve")
              << " no prediction in " << pred << " (e.g. id " << out.stats.first_unpaired << "); scored the "
              << out.result.n_pairs << " paired\n";
  if (out.result.empty_hyp || out.result.empty_ref)
    std::cerr << "psy score: note: " << pred << ": " << out.result.empty_hyp << " empty prediction(s), "
              << out.result.empty_ref << " empty reference(s), scored as the reference implementations do\n";
  return out;
}

std::string fmt(double v) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(4) << v;
  return s.str();
}

void fill_result_json(ordered_json& j, const Scored& s, const std::string& pred) {
  j["pred"] = pred;
  j["n_pairs"] = s.result.n_pairs;
  j["empty_hyp"] = s.result.empty_hyp;
  j["empty_ref"] = s.result.empty_ref;
  j["unpaired_references"] = s.stats.unpaired_refs;
  ordered_json m = ordered_json::object();
  for (const auto& v : s.result.corpus) m[v.name] = eval::metric_value_json(v);
  j["metrics"] = m;
}

void print_table(std::ostream& out, const Scored& s) {
  out << "pairs: " << s.result.n_pairs << "\n";
  for (const auto& v : s.result.corpus) {
    std::string name = v.name;
    name.resize(14, ' ');
    out << name << (v.value ? fmt(*v.value) : std::string("  n/a "));
    if (v.ci95) out << "  [" << fmt(v.ci95->low) << ", " << fmt(v.ci95->high) << "]";
    out << "  " << v.signature;
    if (!v.value && !v.note.empty()) out << "  (" << v.note << ")";
    out << "\n";
  }
}

void write_per_example(const std::string& path, const Scored& s) {
  write_file_atomic(path, [&](std::ostream& out) {
    for (size_t i = 0; i < s.ids.size(); ++i) {
      ordered_json j;
      j["id"] = s.ids[i];
      for (size_t c = 0; c < s.result.per_example_names.size(); ++c) {
        const double v = s.result.per_example[c][i];
        j[s.result.per_example_names[c]] = std::isnan(v) ? ordered_json(nullptr) : ordered_json(v);
      }
      out << j.dump() << "\n";
    }
  });
}

std::string signature_of(const eval::ScoringResult& r, const std::string& name) {
  for (const auto& v : r.corpus)
    if (v.name == name) return v.signature;
  return "";
}

}  // namespace

int cmd_score(const Args& args) {
  ArgParser p("psy score", "Score predictions against references with BLEU, sacreBLEU, METEOR, ROUGE, Distinct, EAD and BERTScore.");
  p.option("pred", "FILE.jsonl", "predictions (with \"ref\" fields unless --ref is given)")
      .option("ref", "FILE.jsonl", "references, paired with the predictions by \"id\"")
      .option("metrics", "LIST", "comma-separated metrics", "bleu1,bleu3,meteor,rougeL,distinct2")
      .option("protocol", "P", "psy-insight (the paper's auto-eval) or standard", "standard")
      .option("lang", "en|zh", "language of the texts (the standard protocol's tokenisation)", "en")
      .option("per-example", "OUT.jsonl", "write every pair's per-pair metric values here")
      .option("out", "metrics.json", "write the corpus values, CIs and signatures here")
      .multi_option("compare", "A.jsonl B.jsonl", "paired bootstrap test of two prediction files")
      .option("seed", "N", "seed of the bootstrap resampling", "66")
      .option("bootstrap", "N", "bootstrap resamples for CIs and --compare (0: none)", "1000")
      .option("smoothing", "M", "sentence BLEU smoothing: none, method1 ... method4", "method1")
      .option("vocab-size", "V", "vocabulary size for EAD (Mistral's: 32000)", "32000")
      .option("threads", "N", "threads scoring pairs in parallel (results do not depend on it)", "2")
      .flag("rouge-stem", "standard/en: ROUGE with rouge_score's Porter stemmer")
      .option("rouge-tokens", "jieba|char", "standard/zh: ROUGE on jieba tokens or on characters", "jieba")
      .option("sacrebleu-tokenize", "T", "sacrebleu tokenizer: 13a or zh; auto = zh for --lang zh, else 13a", "auto")
      .option("sacrebleu-smooth", "M", "sacrebleu smoothing: exp, floor, add-k or none", "exp")
      .option("sacrebleu-smooth-value", "X", "value for floor (default 0.1) and add-k (default 1); auto = the default", "auto")
      .option("jieba-dir", "DIR", "jieba data (dict.txt, finalseg/prob_*.py); default $PSY_JIEBA_DIR or "
                                  "/usr/lib/python3/dist-packages/jieba")
      .option("wordnet-dir", "DIR", "WordNet 3.0 files; default $PSY_WORDNET_DIR or /usr/share/wordnet")
      .option("bertscore-model", "DIR", "Hugging Face encoder folder for bertscore_p/r/f (bert_score: en roberta-large, zh bert-base-chinese)", "")
      .option("bertscore-layer", "N", "BERTScore hidden layer; auto = bert_score's for the model name, else en 17 / zh 8", "auto")
      .flag("idf", "BERTScore with idf weights computed from the references")
      .option("baseline", "FILE", "rescale BERTScore with this bert_score baseline file (CSV: LAYER,P,R,F)", "")
      .option("bertscore-device", "DEV", "BERTScore device: cpu, cuda or cuda:N", "cpu")
      .option("bertscore-dtype", "T", "BERTScore encoder precision: fp32, bf16 or fp16", "fp32")
      .epilog(kScoreEpilog);
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;

  eval::ScoringOptions opts;
  opts.protocol = eval::parse_protocol(a.get("protocol"));
  opts.lang = a.get("lang");
  if (opts.lang != "en" && opts.lang != "zh") throw Error("psy score: --lang " + expected_found("en or zh", "'" + opts.lang + "'"));
  opts.metrics = eval::parse_metric_list(a.get("metrics"));
  opts.smoothing = eval::parse_bleu_smoothing(a.get("smoothing"));
  const long seed = a.get_long("seed");
  const long resamples = a.get_long("bootstrap");
  const long vocab = a.get_long("vocab-size");
  if (seed < 0) throw Error("psy score: --seed " + expected_found("a non-negative integer", std::to_string(seed)));
  if (resamples < 0 || resamples > 1000000)
    throw Error("psy score: --bootstrap " + expected_found("0 to 1000000", std::to_string(resamples)));
  const long threads = a.get_long("threads");
  if (threads < 1 || threads > 256) throw Error("psy score: --threads " + expected_found("1 to 256", std::to_string(threads)));
  if (vocab < 1) throw Error("psy score: --vocab-size " + expected_found("a positive integer", std::to_string(vocab)));
  opts.seed = static_cast<uint64_t>(seed);
  opts.bootstrap_resamples = static_cast<int>(resamples);
  opts.vocab_size = vocab;
  opts.rouge_stem = a.flag("rouge-stem");
  opts.zh_rouge_tokens = a.get("rouge-tokens");
  if (opts.zh_rouge_tokens != "jieba" && opts.zh_rouge_tokens != "char")
    throw Error("psy score: --rouge-tokens " + expected_found("jieba or char", "'" + opts.zh_rouge_tokens + "'"));
  if (opts.rouge_stem && (opts.lang != "en" || opts.protocol != eval::Protocol::standard))
    throw Error("psy score: --rouge-stem is for --protocol standard --lang en (the paper's code has no stemmer)");
  if (opts.zh_rouge_tokens == "char" && (opts.lang != "zh" || opts.protocol != eval::Protocol::standard))
    throw Error("psy score: --rouge-tokens char is for --protocol standard --lang zh");
  if (a.get("sacrebleu-tokenize") != "auto") {
    eval::parse_sacrebleu_tokenizer(a.get("sacrebleu-tokenize"));  // checks the name
    opts.sacrebleu_tokenize = a.get("sacrebleu-tokenize");
  }
  opts.sacrebleu_smooth = eval::parse_sacrebleu_smooth(a.get("sacrebleu-smooth"));
  if (a.get("sacrebleu-smooth-value") != "auto") {
    const std::string text = a.get("sacrebleu-smooth-value");
    double v = 0;
    size_t used = 0;
    try {
      v = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != text.size() || !(v >= 0) || !std::isfinite(v))
      throw Error("psy score: --sacrebleu-smooth-value " + expected_found("a non-negative number or auto", "'" + text + "'"));
    if (opts.sacrebleu_smooth != eval::SacreSmooth::floor && opts.sacrebleu_smooth != eval::SacreSmooth::add_k)
      throw Error("psy score: --sacrebleu-smooth-value is for --sacrebleu-smooth floor or add-k");
    opts.sacrebleu_smooth_value = v;
  }
  opts.jieba_dir = a.get("jieba-dir");
  opts.wordnet_dir = a.get("wordnet-dir");

  const auto& compare = a.list("compare");
  const bool comparing = a.given("compare");
  if (comparing && compare.size() != 2)
    throw Error("psy score: --compare takes two prediction files, " + expected_found("2", std::to_string(compare.size())));
  if (comparing && a.given("pred")) throw Error("psy score: give either --pred or --compare A B, not both");
  if (!comparing && !a.given("pred")) throw Error("psy score: --pred FILE.jsonl (or --compare A.jsonl B.jsonl) is required");
  if (comparing && a.given("per-example")) throw Error("psy score: --per-example is for --pred, not --compare");

  std::optional<RefTable> refs;
  if (a.given("ref")) refs = load_refs(a.get("ref"));
  const RefTable* ref_ptr = refs ? &*refs : nullptr;
  const auto resources = eval::load_scoring_resources(opts);
  eval::BertScoreRequest bs_request;
  bs_request.model_dir = a.get("bertscore-model");
  bs_request.layer = a.get("bertscore-layer");
  bs_request.idf = a.flag("idf");
  bs_request.baseline_path = a.get("baseline");
  bs_request.device = a.get("bertscore-device");
  bs_request.dtype = a.get("bertscore-dtype");
  const auto bertscore = eval::bertscore_metric_for(bs_request, opts.lang, opts.metrics);

  ordered_json report;
  report["psy_version"] = eval::psy_version();
  report["protocol"] = eval::to_string(opts.protocol);
  report["lang"] = opts.lang;
  report["ref"] = refs ? ordered_json(refs->path) : ordered_json(nullptr);
  report["bootstrap"] = {{"resamples", opts.bootstrap_resamples}, {"seed", opts.seed}, {"level", 0.95}};

  if (!comparing) {
    const bool keep_ids = a.given("per-example");
    Scored s = score_file(a.get("pred"), ref_ptr, opts, resources, keep_ids, static_cast<int>(threads), bertscore);
    fill_result_json(report, s, a.get("pred"));
    print_table(std::cout, s);
    if (keep_ids) write_per_example(a.get("per-example"), s);
  } else {
    Scored sa = score_file(compare[0], ref_ptr, opts, resources, true, static_cast<int>(threads), bertscore);
    Scored sb = score_file(compare[1], ref_ptr, opts, resources, true, static_cast<int>(threads), bertscore);
    // Align B to A by id; the id sets must be equal.
    std::unordered_map<std::string, size_t> b_index;
    for (size_t i = 0; i < sb.ids.size(); ++i) b_index.emplace(sb.ids[i], i);
    std::vector<size_t> order;
    for (const auto& id : sa.ids) {
      auto it = b_index.find(id);
      if (it == b_index.end())
        throw Error("psy score --compare: id " + id + " is in " + compare[0] + " but not in " + compare[1]);
      order.push_back(it->second);
    }
    if (sa.ids.size() != sb.ids.size())
      throw Error("psy score --compare: " + compare[1] + " has " + std::to_string(sb.ids.size()) + " pairs, " +
                  expected_found(std::to_string(sa.ids.size()) + " (the ids of " + compare[0] + ")",
                                 std::to_string(sb.ids.size())));
    fill_result_json(report["a"], sa, compare[0]);
    fill_result_json(report["b"], sb, compare[1]);
    ordered_json tests = ordered_json::object();
    std::cout << "A = " << compare[0] << "\nB = " << compare[1] << "\npairs: " << sa.ids.size() << "\n";
    for (size_t c = 0; c < sa.result.per_example_names.size(); ++c) {
      const auto& name = sa.result.per_example_names[c];
      const auto& col_a = sa.result.per_example[c];
      std::vector<double> col_b;
      col_b.reserve(order.size());
      for (size_t i : order) col_b.push_back(sb.result.per_example[c][i]);
      bool nan = false;
      for (double v : col_a) nan = nan || std::isnan(v);
      for (double v : col_b) nan = nan || std::isnan(v);
      std::string label = name;
      label.resize(12, ' ');
      if (nan || col_a.empty() || opts.bootstrap_resamples == 0) {
        std::cout << label << "not tested (" << (nan ? "values unavailable" : col_a.empty() ? "no pairs" : "--bootstrap 0")
                  << ")\n";
        continue;
      }
      const auto t = eval::paired_bootstrap(col_a, col_b, opts.bootstrap_resamples, opts.seed);
      const std::string better = t.delta > 0 ? "A" : t.delta < 0 ? "B" : "neither";
      const bool significant = t.delta != 0 && t.p_value < 0.05;
      std::cout << label << "A " << fmt(t.mean_a) << "  B " << fmt(t.mean_b) << "  A-B " << (t.delta >= 0 ? "+" : "")
                << fmt(t.delta) << " [" << fmt(t.delta_ci.low) << ", " << fmt(t.delta_ci.high) << "]  p = "
                << std::setprecision(4) << t.p_value << "  -> "
                << (significant ? better + " is better" : std::string("no significant difference")) << "\n";
      tests[name] = {{"mean_a", t.mean_a},         {"mean_b", t.mean_b},
                     {"delta", t.delta},           {"delta_ci95", {t.delta_ci.low, t.delta_ci.high}},
                     {"p_value", t.p_value},       {"better", significant ? better : "none"},
                     {"resamples", t.resamples},   {"signature", signature_of(sa.result, name)}};
    }
    for (const auto& v : sa.result.corpus) {
      if (v.aggregate != "corpus") continue;
      const eval::MetricValue* vb = nullptr;
      for (const auto& w : sb.result.corpus)
        if (w.name == v.name) vb = &w;
      std::string label = v.name;
      label.resize(12, ' ');
      std::cout << label << "A " << (v.value ? fmt(*v.value) : "n/a") << "  B "
                << (vb && vb->value ? fmt(*vb->value) : "n/a") << "  (corpus-level: no paired test)\n";
    }
    report["paired_bootstrap"] = tests;
  }
  if (a.given("out")) write_file_atomic(a.get("out"), report.dump(2) + "\n");
  return 0;
}

}  // namespace psy::cli
