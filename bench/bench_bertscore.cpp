// bench-libs: psy_process psy_bertscore psy_bert_tokenizers psy_eval psy_io psy_io_format psy_core
//
// BERTScore throughput. Part 1 (when .reference/venv and .reference/models/all-minilm-l6-v2 exist):
// psy's BertScorer against the real bert_score package (baselines/bertscore_package.py, a
// BERTScorer built once, scoring timed) on the same encoder (all-MiniLM-L6-v2, layer 6) and the
// same PSY_BENCH_REAL_PAIRS (200) English Psy-Insight pairs, both on PSY_BENCH_THREADS threads, in
// the same run; prints medians, the ratio and the largest P/R/F difference.
// Part 2: pairs/s for a base-size RoBERTa encoder (12 layers, hidden 768, 12 heads,
// FFN 3072, random weights written to a temporary folder at start) on PSY_BENCH_THREADS (2) CPU
// threads, psy's BertScorer (tokenise + batched encoder + greedy matching) against
// baselines/bertscore_torch.py (the same token ids, encoder forward and bert_score-style greedy
// matching in Python on the same LibTorch, Debian's python3-torch), in the same run. Prints
// medians; never fails on speed. See bench/README.md.
#include <filesystem>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eval/bertscore/bert_scorer.h"
#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"
#include "libpsy/io/safetensors.h"
#include "libpsy/runtime/process_environment.h"

namespace {

long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atol(v) : fallback;
}
std::string env_str(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

double cpu_seconds() {
  rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string shared_dir() {
  const std::string dir = env_str("PSY_SHARED", std::string(PSY_SOURCE_DIR) + "/../shared");
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 ? dir : "";
}

void copy_file(const std::string& from, const std::string& to) {
  std::ofstream(to, std::ios::binary) << psy::read_text_file(from);
}

// A RoBERTa-base shaped encoder with random weights (LayerNorm gains 1, small biases).
void write_random_roberta(const std::string& dir, const std::string& tokenizer_dir, int layers) {
  const int64_t vocab = 50262, h = 768, f = 3072, pos = 514;
  nlohmann::json cfg = {{"model_type", "roberta"},        {"vocab_size", vocab},   {"hidden_size", h},
                        {"num_hidden_layers", layers},    {"num_attention_heads", 12}, {"intermediate_size", f},
                        {"max_position_embeddings", pos}, {"type_vocab_size", 1},  {"layer_norm_eps", 1e-5},
                        {"pad_token_id", 1},              {"hidden_act", "gelu"}};
  std::ofstream(dir + "/config.json") << cfg.dump(2);
  for (const char* f2 : {"vocab.json", "merges.txt", "special_tokens_map.json"}) copy_file(tokenizer_dir + "/" + f2, dir + "/" + f2);
  std::ofstream(dir + "/tokenizer_config.json") << R"({"model_max_length": 512})";
  torch::manual_seed(1234);
  psy::NamedTensors t;
  auto randn = [](std::vector<int64_t> shape) { return torch::randn(shape) * 0.02; };
  t.emplace_back("embeddings.word_embeddings.weight", randn({vocab, h}));
  t.emplace_back("embeddings.position_embeddings.weight", randn({pos, h}));
  t.emplace_back("embeddings.token_type_embeddings.weight", randn({1, h}));
  t.emplace_back("embeddings.LayerNorm.weight", torch::ones({h}));
  t.emplace_back("embeddings.LayerNorm.bias", randn({h}));
  for (int l = 0; l < layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char* m : {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"}) {
      t.emplace_back(p + m + ".weight", randn({h, h}));
      t.emplace_back(p + m + ".bias", randn({h}));
    }
    t.emplace_back(p + "attention.output.LayerNorm.weight", torch::ones({h}));
    t.emplace_back(p + "attention.output.LayerNorm.bias", randn({h}));
    t.emplace_back(p + "intermediate.dense.weight", randn({f, h}));
    t.emplace_back(p + "intermediate.dense.bias", randn({f}));
    t.emplace_back(p + "output.dense.weight", randn({h, f}));
    t.emplace_back(p + "output.dense.bias", randn({h}));
    t.emplace_back(p + "output.LayerNorm.weight", torch::ones({h}));
    t.emplace_back(p + "output.LayerNorm.bias", randn({h}));
  }
  psy::write_safetensors(dir + "/model.safetensors", t, {{"format", "pt"}});
}

// Consecutive therapist turns of the English dataset (hyp = turn, ref = next therapist turn).
void load_pairs(const std::string& shared, size_t n, std::vector<std::string>& hyps, std::vector<std::string>& refs) {
  const auto data = nlohmann::json::parse(psy::read_text_file(shared + "/data/psy-insight/en_data_version7.json"));
  for (const auto& session : data) {
    std::vector<std::string> turns;
    if (!session.contains("dialog") || !session["dialog"].is_array()) continue;
    for (const auto& turn : session["dialog"])
      if (turn.value("speaker", "") == "Supporter" && turn.contains("content") && turn["content"].is_string())
        turns.push_back(turn["content"].get<std::string>());
    for (size_t i = 0; i + 1 < turns.size() && hyps.size() < n; ++i) {
      hyps.push_back(turns[i]);
      refs.push_back(turns[i + 1]);
    }
    if (hyps.size() >= n) break;
  }
}

bool file_exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

// psy vs the bert_score package on all-MiniLM-L6-v2 (see the header comment).
void compare_with_bert_score_package(const std::string& shared, int threads) {
  const std::string root = std::string(PSY_SOURCE_DIR) + "/.reference";
  const std::string python = root + "/venv/bin/python", model = root + "/models/all-minilm-l6-v2";
  if (!file_exists(python) || !file_exists(model + "/config.json")) {
    std::cout << "bert_score package comparison: SKIPPED (needs .reference/venv and .reference/models/all-minilm-l6-v2: "
                 "scripts/setup-reference.sh)\n";
    return;
  }
  const size_t n = static_cast<size_t>(env_long("PSY_BENCH_REAL_PAIRS", 200));
  const int runs = static_cast<int>(env_long("PSY_BENCH_RUNS", 3));
  const int py_runs = static_cast<int>(env_long("PSY_BENCH_PY_RUNS", 3));
  const bool idf = env_long("PSY_BENCH_IDF", 0) != 0;
  std::vector<std::string> hyps, refs;
  load_pairs(shared, n, hyps, refs);
  std::string tmpl = (std::filesystem::temp_directory_path() / "psy-bench-bs-XXXXXX").string();
  const std::string dir = ::mkdtemp(tmpl.data());
  {
    std::ofstream out(dir + "/pairs.jsonl");
    for (size_t i = 0; i < hyps.size(); ++i) out << nlohmann::json{{"hyp", hyps[i]}, {"ref", refs[i]}}.dump() << "\n";
  }
  psy::eval::BertScoreOptions o;
  o.model_dir = model;
  o.num_layers = 6;  // bert_score has no default layer for this model; 6 = its last
  o.idf = idf;
  psy::eval::BertScorer scorer(o);
  std::vector<double> secs, cpu;
  psy::eval::BertScores last;
  for (int r = 0; r < runs; ++r) {
    scorer.clear_cache();
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    last = scorer.score(hyps, refs);
    cpu.push_back(cpu_seconds() - c0);
    secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::cout << std::fixed << std::setprecision(3) << "all-MiniLM-L6-v2, layer 6" << (idf ? ", idf" : "") << ", "
            << hyps.size() << " English Psy-Insight pairs, " << threads << " threads\n"
            << "  psy BertScorer:      median " << median(secs) << " s wall, " << median(cpu) << " s CPU over " << runs
            << " runs (";
  for (size_t i = 0; i < secs.size(); ++i) std::cout << (i ? ", " : "") << secs[i];
  std::cout << ")\n" << std::flush;
  const std::string cmd = "HF_HUB_OFFLINE=1 OMP_NUM_THREADS=" + std::to_string(threads) + " " + python + " " +
                          std::string(PSY_SOURCE_DIR) + "/bench/baselines/bertscore_package.py " + model + " 6 " + dir +
                          "/pairs.jsonl " + dir + "/py.json --runs " + std::to_string(py_runs) + " --threads " +
                          std::to_string(threads) + (idf ? " --idf" : "") + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) {
    std::cout << "  bert_score package: FAILED (" << cmd << ")\n";
  } else {
    const auto py = nlohmann::json::parse(psy::read_text_file(dir + "/py.json"));
    double max_diff = 0;
    for (size_t i = 0; i < hyps.size(); ++i) {
      max_diff = std::max(max_diff, std::abs(py["P"][i].get<double>() - last.precision[i]));
      max_diff = std::max(max_diff, std::abs(py["R"][i].get<double>() - last.recall[i]));
      max_diff = std::max(max_diff, std::abs(py["F"][i].get<double>() - last.f1[i]));
    }
    std::cout << "  bert_score " << py["bert_score"].get<std::string>() << " (torch " << py["torch"].get<std::string>()
              << "): median " << py["median_s"].get<double>() << " s wall, " << py["median_cpu_s"].get<double>()
              << " s CPU over " << py_runs << " runs (";
    for (size_t i = 0; i < py["runs_s"].size(); ++i) std::cout << (i ? ", " : "") << py["runs_s"][i].get<double>();
    std::cout << ")\n  speed-up psy / bert_score: " << std::setprecision(2) << py["median_s"].get<double>() / median(secs)
              << "x wall, " << py["median_cpu_s"].get<double>() / median(cpu) << "x CPU; max |P/R/F difference| = "
              << std::scientific << max_diff << std::fixed << "\n";
  }
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace

int main(int, char** argv) {
  psy::settle_process_environment(argv);  // OpenBLAS kernels and OpenMP policy as psy runs them
  try {
    const std::string shared = shared_dir();
    if (shared.empty()) {
      std::cout << "bench_bertscore: SKIPPED (needs ../shared: the RoBERTa vocabulary of golden/bertscore and the dataset)\n";
      return 0;
    }
    const int threads = static_cast<int>(env_long("PSY_BENCH_THREADS", 2));
    const size_t n_pairs = static_cast<size_t>(env_long("PSY_BENCH_PAIRS", 64));
    const int runs = static_cast<int>(env_long("PSY_BENCH_RUNS", 3));
    const int py_runs = static_cast<int>(env_long("PSY_BENCH_PY_RUNS", 3));
    const int layers = static_cast<int>(env_long("PSY_BENCH_LAYERS", 12));
    const int use_layer = static_cast<int>(env_long("PSY_BENCH_LAYER", 10));  // bert_score's roberta-base layer
    const std::string device = env_str("PSY_BENCH_DEVICE", "cpu");
    const std::string dtype = env_str("PSY_BENCH_DTYPE", "fp32");
    const std::string python = env_str("PSY_BENCH_PYTHON", "/usr/bin/python3");
    torch::set_num_threads(threads);
    compare_with_bert_score_package(shared, threads);
    if (env_long("PSY_BENCH_SKIP_RANDOM", 0) != 0) return 0;  // part 1 only

    std::string tmpl = (std::filesystem::temp_directory_path() / "psy-bench-bertscore-XXXXXX").string();
    const std::string dir = ::mkdtemp(tmpl.data());
    const auto t_write = std::chrono::steady_clock::now();
    write_random_roberta(dir, shared + "/golden/bertscore/models/roberta-tiny", layers);
    std::cout << "random RoBERTa-base (" << layers << " layers, 768 hidden) written to " << dir << " in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t_write).count() << " s\n";

    std::vector<std::string> hyps, refs;
    load_pairs(shared, n_pairs, hyps, refs);
    psy::eval::BertScoreOptions o;
    o.model_dir = dir;
    o.num_layers = use_layer;
    o.device = device;
    o.dtype = dtype;
    psy::eval::BertScorer scorer(o);

    // The ids for the Python baseline (it times the encoder + matching, not tokenisation).
    nlohmann::json ids = nlohmann::json::array();
    size_t tokens = 0;
    for (size_t i = 0; i < hyps.size(); ++i) {
      const auto h = scorer.tokenizer().sent_encode(hyps[i]).ids, r = scorer.tokenizer().sent_encode(refs[i]).ids;
      tokens += h.size() + r.size();
      ids.push_back({{"hyp", h}, {"ref", r}});
    }
    std::ofstream(dir + "/ids.json") << ids.dump();
    std::cout << "pairs: " << hyps.size() << " (consecutive English therapist turns), " << tokens
              << " tokens incl. specials, layer " << use_layer << ", " << dtype << " on " << device << ", " << threads
              << " threads\n";

    std::vector<double> secs, cpu;
    psy::eval::BertScores last;
    for (int r = 0; r < runs; ++r) {
      scorer.clear_cache();  // every run embeds hyps and refs
      const auto t0 = std::chrono::steady_clock::now();
      const double c0 = cpu_seconds();
      last = scorer.score(hyps, refs);
      cpu.push_back(cpu_seconds() - c0);
      secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    const double psy_med = median(secs), psy_cpu = median(cpu);
    std::cout << std::fixed << std::setprecision(3) << "psy BertScorer:   median " << psy_med << " s wall, " << psy_cpu
              << " s CPU over " << runs << " runs = " << std::setprecision(2) << hyps.size() / psy_med << " pairs/s\n";
    {
      // A second system (other hypotheses) against the same references reuses their embeddings.
      std::vector<std::string> other;
      for (const auto& h : hyps) other.push_back(h + " Thank you for sharing.");
      scorer.clear_cache();
      const auto t0 = std::chrono::steady_clock::now();
      scorer.score(hyps, refs);
      const double first = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const auto t1 = std::chrono::steady_clock::now();
      scorer.score(other, refs);
      const double second = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      std::cout << std::setprecision(3) << "reference cache:  system 1 " << first << " s, system 2 on the same references "
                << second << " s\n";
    }

    // Python baseline.
    const std::string script = std::string(PSY_SOURCE_DIR) + "/bench/baselines/bertscore_torch.py";
    const std::string cmd = "OMP_NUM_THREADS=" + std::to_string(threads) + " " + python + " " + script + " --model " + dir +
                            " --ids " + dir + "/ids.json --layer " + std::to_string(use_layer) + " --threads " +
                            std::to_string(threads) + " --runs " + std::to_string(py_runs) + " --out " + dir + "/py_scores.json";
    if (std::system((python + " -c 'import torch' 2>/dev/null").c_str()) != 0) {
      std::cout << "python baseline: SKIPPED (python3-torch is not installed: apt-get install python3-torch)\n";
    } else if (std::system(cmd.c_str()) != 0) {
      std::cout << "python baseline: FAILED (" << cmd << ")\n";
    } else {
      const auto py = nlohmann::json::parse(psy::read_text_file(dir + "/py_scores.json"));
      const double py_med = py["median_s"].get<double>(), py_cpu = py["median_cpu_s"].get<double>();
      double max_diff = 0;
      for (size_t i = 0; i < hyps.size(); ++i) {
        max_diff = std::max(max_diff, std::abs(py["P"][i].get<double>() - last.precision[i]));
        max_diff = std::max(max_diff, std::abs(py["R"][i].get<double>() - last.recall[i]));
        max_diff = std::max(max_diff, std::abs(py["F"][i].get<double>() - last.f1[i]));
      }
      std::cout << std::setprecision(3) << "python (torch " << py["torch"].get<std::string>() << "): median " << py_med
                << " s wall, " << py_cpu << " s CPU over " << py_runs << " runs = " << std::setprecision(2)
                << hyps.size() / py_med << " pairs/s\n"
                << "speed-up psy / python: " << py_med / psy_med << "x wall, " << py_cpu / psy_cpu
                << "x CPU; max |P/R/F difference| = " << std::scientific << max_diff << "\n";
    }
    std::system(("rm -rf '" + dir + "'").c_str());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_bertscore: " << e.what() << "\n";
    return 0;
  }
}
