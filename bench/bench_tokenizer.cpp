// bench-libs: psy_text psy_core
// tokenizer.json encoding speed: psy (Tokenizer::encode_like_hf, one thread) against Hugging Face
// `tokenizers` (bench/baselines/tokenize_hf.py, Tokenizer.encode one text at a time, one thread)
// on every turn text (content, observation, reasoning) of both Psy-Insight v7 files, for every
// tokenizer folder of the reference stack that is present (.reference/models/...). Loading is
// not timed; both sides keep their word caches across runs (median of PSY_BENCH_RUNS, default 5).
// The first psy run (cold cache) is printed too. Prints the load average before and after.
//   bench_tokenizer [--runs N] [--python PATH] [--tokenizer DIR]...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/bench_cli.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"
#include "libpsy/text/tokenizer.h"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string load_average() {
  try {
    std::string s = psy::read_text_file("/proc/loadavg");
    return s.substr(0, s.find(' ', s.find(' ', s.find(' ') + 1) + 1));
  } catch (const std::exception&) {
    return "?";
  }
}

std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

int main(int argc, char** argv) {
  int runs = std::getenv("PSY_BENCH_RUNS") ? std::max(1, std::atoi(std::getenv("PSY_BENCH_RUNS"))) : 5;
  std::string python = std::string(PSY_SOURCE_DIR) + "/.reference/venv/bin/python";
  std::vector<std::string> folders;
  psy::ArgParser p("bench_tokenizer", "tokenizer.json encoding, psy against Hugging Face tokenizers, one thread.");
  p.option("runs", "N", "runs (median reported; default $PSY_BENCH_RUNS or 5)")
      .option("python", "PATH", "the Python with tokenizers (default .reference/venv's)")
      .multi_option("tokenizer", "DIR", "tokenizer folders (default: the reference ones present)");
  if (const int done = psy::bench::parse(p, argc, argv, [&](const psy::ParsedArgs& a) {
        if (a.given("runs")) runs = static_cast<int>(psy::bench::at_least(a, "runs", 1));
        if (a.given("python")) python = a.get("python");
        folders = a.list("tokenizer");
      });
      done >= 0)
    return done;
  if (folders.empty()) {
    const std::string models = std::string(PSY_SOURCE_DIR) + "/.reference/models/";
    for (const char* f : {"smollm2-135m-instruct", "tokenizers/llama3", "tokenizers/qwen2.5", "tokenizers/qwen3",
                          "tokenizers/mistral-v0.3", "tokenizers/glm4"})
      if (psy::path_exists(models + f + "/tokenizer.json")) folders.push_back(models + f);
  }
  const char* shared_env = std::getenv("PSY_SHARED");
  const std::string shared = shared_env ? shared_env : std::string(PSY_SOURCE_DIR) + "/../shared";
  std::vector<std::string> texts;
  size_t bytes = 0;
  for (const char* f : {"en_data_version7.json", "cn_data_version7.json"}) {
    const std::string path = shared + "/data/psy-insight/" + f;
    if (!psy::path_exists(path)) {
      std::cout << "bench_tokenizer: SKIPPED (" << path << " not found; set PSY_SHARED)\n";
      return 0;
    }
    for (const auto& s : psy::read_json_file(path))
      for (const auto& turn : s.value("dialog", nlohmann::json::array()))
        for (const char* key : {"content", "observation", "reasoning"})
          if (turn.is_object() && turn.contains(key) && turn[key].is_string() && !turn[key].get<std::string>().empty()) {
            texts.push_back(turn[key].get<std::string>());
            bytes += texts.back().size();
          }
  }
  if (folders.empty()) {
    std::cout << "bench_tokenizer: SKIPPED (no tokenizer folders; run scripts/setup-reference.sh or pass --tokenizer DIR)\n";
    return 0;
  }
  const std::string texts_file = (std::getenv("TMPDIR") ? std::string(std::getenv("TMPDIR")) : std::string("/tmp")) +
                                 "/psy_bench_tokenizer_texts.jsonl";
  {
    std::string jsonl;
    for (const auto& t : texts) jsonl += nlohmann::json{{"text", t}}.dump() + "\n";
    FILE* f = std::fopen(texts_file.c_str(), "wb");
    if (!f) return std::cerr << "cannot write " << texts_file << "\n", 1;
    std::fwrite(jsonl.data(), 1, jsonl.size(), f);
    std::fclose(f);
  }
  std::cout << fmt::format("{} texts, {:.2f} MB; {} runs each; load average at start: {}\n", texts.size(),
                           static_cast<double>(bytes) / 1e6, runs, load_average());
  std::cout << "| tokenizer | psy first (cold) s | psy median s | HF tokenizers median s | HF / psy | tokens psy | tokens HF |\n";
  std::cout << "| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& folder : folders) {
    const psy::Tokenizer tok = psy::Tokenizer::load(folder);
    std::vector<double> times;
    size_t tokens = 0;
    for (int r = 0; r < runs; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      size_t n = 0;
      for (const auto& t : texts) n += tok.encode_like_hf(t).size();
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      tokens = n;
    }
    double hf_median = -1;
    long hf_tokens = -1;
    if (psy::path_exists(python)) {
      const std::string out = run_command(quote(python) + " " + quote(std::string(PSY_SOURCE_DIR) + "/bench/baselines/tokenize_hf.py") +
                                          " " + quote(folder + "/tokenizer.json") + " " + quote(texts_file) + " " +
                                          std::to_string(runs) + " 2>/dev/null");
      try {
        const auto j = nlohmann::json::parse(out);
        hf_median = j["median_s"].get<double>();
        hf_tokens = j["tokens"].get<long>();
      } catch (const std::exception&) {
      }
    }
    std::string name = folder.substr(folder.find_last_of('/') + 1);
    std::cout << fmt::format("| {} | {:.3f} | {:.3f} | {} | {} | {} | {} |\n", name, times[0], median(times),
                             hf_median < 0 ? std::string("n/a") : fmt::format("{:.3f}", hf_median),
                             hf_median < 0 ? std::string("n/a") : fmt::format("{:.2f}x", hf_median / median(times)), tokens,
                             hf_tokens < 0 ? std::string("n/a") : std::to_string(hf_tokens));
  }
  std::cout << "load average at end: " << load_average() << "\n";
  std::remove(texts_file.c_str());
  return 0;
}
