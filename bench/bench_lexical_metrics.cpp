// bench-libs: psy_eval psy_core
// Benchmark: 10,000 English pairs scored with BLEU-1..4 + METEOR + ROUGE-1/2/L/Lsum + sacreBLEU +
// Distinct-2 (the standard protocol: whitespace tokens, rouge_score's tokenizer), against the real
// NLTK + rouge_score + sacrebleu of .reference/venv (baselines/lexical_metrics_reference.py)
// measured in the same run; without the venv, against Debian's NLTK with a line-for-line Python
// ROUGE-L (baselines/lexical_metrics_nltk.py; ROUGE-1/2/Lsum and sacreBLEU then go unmatched).
// Prints numbers; never fails on speed.
//
// Pairs are synthesised at run time by recombining the texts of ../shared/golden/metrics/en.jsonl
// (or, without ../shared, the therapist turns of data/sample/psy_insight_sample_en.json).
// Env: PSY_BENCH_PAIRS (10000), PSY_BENCH_THREADS (2), PSY_BENCH_RUNS (5), PSY_BENCH_PY_RUNS (1), PSY_BENCH_METRICS (the list),
//      PSY_BENCH_PYTHON (.reference/venv/bin/python when present, else /usr/bin/python3), PSY_SHARED,
//      PSY_BENCH_KEEP_PAIRS (set: keep the pairs file and print its path).
#include <filesystem>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/scoring.h"
#include "eval/wordnet.h"
#include "libpsy/core/rng.h"

namespace {

using Clock = std::chrono::steady_clock;

long env_long(const char* name, long def) {
  const char* v = std::getenv(name);
  return v && *v ? std::atol(v) : def;
}

bool exists(const std::string& p) { return std::ifstream(p).good(); }

// CPU time of this process (user + system): less sensitive than wall time to a busy machine.
double cpu_seconds() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<std::pair<std::string, std::string>> source_pairs(std::string& origin) {
  std::vector<std::pair<std::string, std::string>> out;
  const char* env = std::getenv("PSY_SHARED");
  const std::string shared = env && *env ? env : std::string(PSY_SOURCE_DIR) + "/../shared";
  const std::string golden = shared + "/golden/metrics/en.jsonl";
  if (exists(golden)) {
    origin = golden;
    std::ifstream in(golden);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto j = nlohmann::json::parse(line);
      out.emplace_back(j["hyp"].get<std::string>(), j["ref"].get<std::string>());
    }
    return out;
  }
  const std::string sample = std::string(PSY_SOURCE_DIR) + "/data/sample/psy_insight_sample_en.json";
  origin = sample;
  std::ifstream in(sample);
  auto sessions = nlohmann::json::parse(in);
  for (const auto& s : sessions) {
    std::vector<std::string> turns;
    for (const auto& t : s.value("dialog", nlohmann::json::array()))
      if (t.value("speaker", "") == "Supporter" && t.contains("content") && t["content"].is_string())
        turns.push_back(t["content"].get<std::string>());
    for (size_t i = 0; i + 1 < turns.size(); ++i) out.emplace_back(turns[i], turns[i + 1]);
  }
  return out;
}

}  // namespace

int main() {
  const auto n_pairs = static_cast<size_t>(env_long("PSY_BENCH_PAIRS", 10000));
  const int runs = static_cast<int>(env_long("PSY_BENCH_RUNS", 5));
  const int py_runs = static_cast<int>(env_long("PSY_BENCH_PY_RUNS", 1));

  std::string origin;
  const auto base = source_pairs(origin);
  if (base.empty()) {
    std::cerr << "bench_lexical_metrics: no source texts found (" << origin << ")\n";
    return 0;
  }
  // Recombine: a third of the pairs are the original (related) pairs, the rest pair a hypothesis
  // with another pair's reference.
  psy::Rng rng(20240611);
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(n_pairs);
  for (size_t k = 0; k < n_pairs; ++k) {
    const auto a = static_cast<size_t>(rng.uniform_below(base.size()));
    if (k % 3 == 0) {
      pairs.push_back(base[a]);
    } else {
      const auto b = static_cast<size_t>(rng.uniform_below(base.size()));
      pairs.emplace_back(base[a].first, base[b].second);
    }
  }
  const std::string tmp_root = std::filesystem::temp_directory_path().string();
  std::string tmpl = tmp_root + "/psy-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl.data()) ? tmpl : tmp_root;
  const std::string pairs_path = dir + "/pairs.jsonl";
  {
    std::ofstream out(pairs_path);
    for (const auto& [h, r] : pairs) out << nlohmann::json({{"hyp", h}, {"ref", r}}).dump() << "\n";
  }
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) std::cout << "load average at start: " << load[0] << " " << load[1] << " " << load[2] << "\n";
  std::cout << "bench_lexical_metrics: " << pairs.size() << " English pairs recombined from " << base.size()
            << " pairs of " << origin << "\n"
            << "metrics: bleu1-4 (method1), meteor, rouge1/rouge2/rougeL/rougeLsum (F), sacrebleu, distinct2; "
               "protocol standard, lang en\n";

  psy::eval::ScoringOptions opts;
  opts.protocol = psy::eval::Protocol::standard;
  opts.lang = "en";
  opts.metrics = {"bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge1", "rouge2", "rougeL", "rougeLsum", "sacrebleu", "distinct2"};
  opts.bootstrap_resamples = 0;
  if (const char* m = std::getenv("PSY_BENCH_METRICS")) opts.metrics = psy::eval::parse_metric_list(m);

  const int threads = static_cast<int>(env_long("PSY_BENCH_THREADS", 2));
  std::vector<std::string> hyps, refs;
  for (const auto& [h, r] : pairs) {
    hyps.push_back(h);
    refs.push_back(r);
  }
  // The same with Scorer::add_batch on `threads` threads, in batches of 256 pairs (as psy score does).
  std::vector<double> par_secs, par_cpu_secs;
  psy::eval::ScoringResult par_last;
  for (int r = 0; r < runs; ++r) {
    psy::eval::ScoringResources res;
    res.wordnet = std::make_shared<const psy::eval::WordNet>(psy::eval::WordNet::load());
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    psy::eval::Scorer scorer(opts, res);
    for (size_t b = 0; b < hyps.size(); b += 256) {
      const size_t e = std::min(hyps.size(), b + 256);
      scorer.add_batch(std::vector<std::string>(hyps.begin() + static_cast<long>(b), hyps.begin() + static_cast<long>(e)),
                       std::vector<std::string>(refs.begin() + static_cast<long>(b), refs.begin() + static_cast<long>(e)),
                       threads);
    }
    par_last = scorer.finish();
    par_secs.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    par_cpu_secs.push_back(cpu_seconds() - c0);
  }

  std::vector<double> secs, cpu_secs, load_secs;
  psy::eval::ScoringResult last;
  for (int r = 0; r < runs; ++r) {
    // A fresh WordNet per run, so that METEOR's synonym cache starts cold every time.
    auto t0 = Clock::now();
    psy::eval::ScoringResources res;
    res.wordnet = std::make_shared<const psy::eval::WordNet>(psy::eval::WordNet::load());
    load_secs.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    t0 = Clock::now();
    const double c0 = cpu_seconds();
    psy::eval::Scorer scorer(opts, res);
    for (const auto& [h, ref] : pairs) scorer.add(h, ref);
    last = scorer.finish();
    secs.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    cpu_secs.push_back(cpu_seconds() - c0);
  }
  // CIs cost: the same with 1000 bootstrap resamples (once).
  double boot_s = 0;
  {
    auto o = opts;
    o.bootstrap_resamples = 1000;
    psy::eval::ScoringResources res;
    res.wordnet = std::make_shared<const psy::eval::WordNet>(psy::eval::WordNet::load());
    const auto t0 = Clock::now();
    psy::eval::Scorer scorer(o, res);
    for (const auto& [h, ref] : pairs) scorer.add(h, ref);
    scorer.finish();
    boot_s = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  const double cpp = median(secs);
  std::cout << "psy (C++, 1 thread): median " << cpp << " s over " << runs << " runs (";
  for (size_t i = 0; i < secs.size(); ++i) std::cout << (i ? ", " : "") << secs[i];
  std::cout << "); CPU median " << median(cpu_secs) << " s; " << static_cast<double>(pairs.size()) / cpp
            << " pairs/s; WordNet load median "
            << median(load_secs) << " s; with 1000-resample CIs " << boot_s << " s; peak RSS "
            << ru.ru_maxrss / 1024 << " MiB\n";
  const double par = median(par_secs);
  std::cout << "psy (C++, " << threads << " threads): median " << par << " s over " << runs << " runs (";
  for (size_t i = 0; i < par_secs.size(); ++i) std::cout << (i ? ", " : "") << par_secs[i];
  std::cout << "); CPU median " << median(par_cpu_secs) << " s (all threads)\n";
  bool same = par_last.corpus.size() == last.corpus.size();
  for (size_t i = 0; same && i < last.corpus.size(); ++i) same = par_last.corpus[i].value == last.corpus[i].value;
  std::cout << "corpus values on " << threads << " threads identical to 1 thread: " << (same ? "yes" : "NO") << "\n";
  for (const auto& v : last.corpus) std::cout << "  " << v.name << " = " << (v.value ? *v.value : -1.0) << "\n";

  // Python baseline in the same run.
  const char* py_env = std::getenv("PSY_BENCH_PYTHON");
  const std::string venv_python = std::string(PSY_SOURCE_DIR) + "/.reference/venv/bin/python";
  const bool venv = !(py_env && *py_env) && exists(venv_python);
  const std::string python = py_env && *py_env ? py_env : venv ? venv_python : "/usr/bin/python3";
  const std::string script = std::string(PSY_SOURCE_DIR) + "/bench/baselines/" +
                             (venv ? "lexical_metrics_reference.py" : "lexical_metrics_nltk.py");
  const std::string check = python + " -c 'import nltk' 2>/dev/null";
  if (std::system(check.c_str()) != 0) {
    std::cout << "baseline: skipped (" << python << " cannot import nltk; apt-get install python3-nltk)\n";
    return 0;
  }
  const std::string cmd = python + " " + script + " --pairs " + pairs_path + " --runs " + std::to_string(py_runs);
  std::cout << "baseline: " << cmd << "\n" << std::flush;
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string output;
  if (pipe) {
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, got);
    pclose(pipe);
  }
  try {
    const auto j = nlohmann::json::parse(output);
    const double py = median(j["seconds"].get<std::vector<double>>());
    std::cout << "NLTK " << j["nltk"].get<std::string>() << " (Python " << j["python"].get<std::string>()
              << "): median " << py << " s over " << j["seconds"].size() << " run(s)\n";
    double worst = 0;
    for (const auto& v : last.corpus) {
      if (!v.value || !j["values"].contains(v.name) || j["values"][v.name].is_null()) continue;
      const double d = std::abs(*v.value - j["values"][v.name].get<double>());
      if (d > 0) std::cout << "  " << v.name << ": psy " << *v.value << ", Python " << j["values"][v.name].get<double>() << "\n";
      worst = std::max(worst, d);
    }
    const double py_cpu = median(j["cpu_seconds"].get<std::vector<double>>());
    std::cout << "NLTK CPU median " << py_cpu << " s; CPU-time ratio (1 thread): " << py_cpu / median(cpu_secs) << "x\n";
    std::cout << "largest difference of a corpus value psy vs Python: " << worst << "\n";
    std::cout << "speed-up (median Python / median psy): " << py / cpp << "x on 1 thread, " << py / par << "x on "
              << threads << " threads\n";
  } catch (const std::exception& e) {
    std::cout << "baseline: could not read its output (" << e.what() << "): " << output << "\n";
  }
  if (getloadavg(load, 3) == 3) std::cout << "load average at end: " << load[0] << " " << load[1] << " " << load[2] << "\n";
  if (std::getenv("PSY_BENCH_KEEP_PAIRS")) {
    std::cout << "pairs kept in " << pairs_path << "\n";
  } else {
    std::remove(pairs_path.c_str());
  }
  return 0;
}
