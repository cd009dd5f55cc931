// bench-libs: psy_process psy_retrieval psy_sentence_encoder psy_data psy_core
// Retrieval for the rag tasks on the whole Chinese Psy-Insight dataset
// (../shared/data/psy-insight/cn_data_version7.json), the recipes' split (85/15, seed 66), with a
// sentence encoder (default .reference/models/all-minilm-l6-v2) on N CPU threads (default 2):
//   - index build: embedding every training session's document (background + summary) + the index,
//   - queries: embedding the query of every therapist turn (train + test) + exact top-k,
//   - top-k alone (the index search without embedding),
// as medians of --runs runs (wall and CPU seconds; the machine may be shared: see `uptime`), and
// the share of test prompts whose retrieved cases share the topic label of the query session
// (per case, and "at least one of k"), next to what random training sessions would give.
// --lang en runs the same on the English dataset.
//   bench_retrieval [--encoder DIR] [--threads N] [--runs N] [--k K] [--lang zh|en]
#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include "eval/bertscore/sentence_encoder.h"
#include "bench/bench_cli.h"
#include "libpsy/core/text_file.h"
#include "libpsy/data/load_sessions.h"
#include "libpsy/data/split.h"
#include "libpsy/retrieval/case_retrieval.h"
#include "libpsy/runtime/process_environment.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  psy::settle_process_environment(argv);  // OpenBLAS kernels and OpenMP policy as psy runs them
  std::string encoder_dir = std::string(PSY_SOURCE_DIR) + "/.reference/models/all-minilm-l6-v2";
  int threads = 2, runs = 3;
  size_t k = 3;
  std::string lang = "zh";
  psy::ArgParser p("bench_retrieval", "The rag index build and queries over a whole dataset.");
  p.option("encoder", "DIR", "the sentence encoder (default .reference/models/all-minilm-l6-v2)")
      .option("threads", "N", "LibTorch threads", "2")
      .option("runs", "N", "runs (median reported)", "3")
      .option("k", "K", "cases retrieved per query", "3")
      .option("lang", "zh|en", "which dataset", "zh");
  if (const int done = psy::bench::parse(p, argc, argv, [&](const psy::ParsedArgs& a) {
        if (a.given("encoder")) encoder_dir = a.get("encoder");
        threads = static_cast<int>(psy::bench::at_least(a, "threads", 1));
        runs = static_cast<int>(psy::bench::at_least(a, "runs", 1));
        k = static_cast<size_t>(psy::bench::at_least(a, "k", 1));
        lang = psy::bench::choice(a, "lang", {"zh", "en"});
      });
      done >= 0)
    return done;
  const std::string data = std::string(PSY_SOURCE_DIR) + "/../shared/data/psy-insight/" +
                           (lang == "en" ? "en_data_version7.json" : "cn_data_version7.json");
  if (!psy::path_exists(data) || !psy::path_exists(encoder_dir + "/config.json")) {
    std::cout << "bench_retrieval: SKIPPED (needs " << data << " and " << encoder_dir << ")\n";
    return 0;
  }
  torch::set_num_threads(threads);
  const auto sessions = psy::load_sessions(data).sessions;
  std::vector<psy::Session> train, test;
  psy::split_sessions(sessions, 0.15, 66, train, test);
  std::vector<psy::Session> queries = train;
  queries.insert(queries.end(), test.begin(), test.end());
  size_t turns = 0;
  for (const auto& s : queries)
    for (const auto& t : s.turns) turns += t.is_therapist() && !t.content.empty();

  psy::eval::SentenceEncoder encoder(encoder_dir, 32);
  const psy::EmbedFn embed = [&](const std::vector<std::string>& texts) { return encoder.encode(texts); };
  psy::RetrievalOptions o;
  o.k = k;
  if (lang == "en") o.fields = {"topic", "summary"};  // the English sessions carry no guide
  std::cout << fmt::format("bench_retrieval: {} sessions ({} train, {} test), {} therapist-turn queries, encoder {}, "
                           "{} thread(s), k {}\n", sessions.size(), train.size(), test.size(), turns, encoder_dir,
                           threads, k);
  std::vector<double> build_wall, build_cpu, query_wall, query_cpu, search_wall;
  psy::RetrievedCases test_cases;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_seconds();
    const psy::CaseIndex index = psy::build_case_index(train, o, embed, {});
    build_wall.push_back(seconds_since(t0));
    build_cpu.push_back(cpu_seconds() - c0);
    t0 = std::chrono::steady_clock::now();
    c0 = cpu_seconds();
    const psy::RetrievedCases all = psy::retrieve_cases(index, queries, o, embed);
    query_wall.push_back(seconds_since(t0));
    query_cpu.push_back(cpu_seconds() - c0);
    // The index search alone: every query vector against the index (embeddings precomputed).
    std::vector<std::vector<float>> vectors;
    for (size_t i = 0; i < std::min<size_t>(turns, index.index.size() * 8); ++i)
      vectors.push_back(std::vector<float>(index.index.data().begin() + static_cast<std::ptrdiff_t>((i % index.index.size()) * index.index.dimension()),
                                           index.index.data().begin() + static_cast<std::ptrdiff_t>((i % index.index.size() + 1) * index.index.dimension())));
    t0 = std::chrono::steady_clock::now();
    size_t sink = 0;
    for (size_t rep = 0; rep * vectors.size() < turns; ++rep)
      for (const auto& v : vectors) sink += index.index.top_k(v, k, index.index.size()).front().index;
    search_wall.push_back(seconds_since(t0) / static_cast<double>(turns) * 1e6);
    if (sink == 0) std::cout << "";
    if (r == 0) {
      test_cases = all;
      test_cases.ranked.erase(test_cases.ranked.begin(), test_cases.ranked.begin() + static_cast<std::ptrdiff_t>(train.size()));
    }
    std::cout << fmt::format("  run {}: build {:.2f} s, queries {:.2f} s\n", r + 1, build_wall.back(), query_wall.back());
  }
  std::cout << fmt::format("index build (embed {} documents + index): median {:.2f} s wall, {:.2f} s CPU\n", train.size(),
                           median(build_wall), median(build_cpu));
  std::cout << fmt::format("queries ({} turns: embed + exact top-{}): median {:.2f} s wall, {:.2f} s CPU ({:.1f} ms per turn)\n",
                           turns, k, median(query_wall), median(query_cpu), median(query_wall) / static_cast<double>(turns) * 1e3);
  std::cout << fmt::format("exact top-{} search alone over {} vectors: median {:.1f} us per query\n", k, train.size(),
                           median(search_wall));

  // Topic agreement on the test prompts.
  size_t prompts = 0, cases = 0, same = 0, any_same = 0;
  double chance = 0;
  for (size_t q = 0; q < test.size(); ++q) {
    const std::string& topic = test[q].topic;
    size_t same_in_train = 0;
    for (const auto& s : train) same_in_train += s.topic == topic;
    for (const auto& ranked : test_cases.ranked[q]) {
      if (ranked.empty()) continue;
      ++prompts;
      bool any = false;
      for (uint32_t ci : ranked) {
        const bool match = !topic.empty() && test_cases.corpus->at(ci).topic == topic;
        same += match;
        any = any || match;
        ++cases;
      }
      any_same += any;
      chance += topic.empty() ? 0.0 : static_cast<double>(same_in_train) / static_cast<double>(train.size());
    }
  }
  std::cout << fmt::format("test prompts: {}; retrieved cases sharing the query session's topic: {:.1f}% of {} cases; "
                           "prompts with at least one such case: {:.1f}%; a random training session shares it: {:.1f}%\n",
                           prompts, 100.0 * same / std::max<size_t>(cases, 1), cases,
                           100.0 * any_same / std::max<size_t>(prompts, 1), 100.0 * chance / std::max<size_t>(prompts, 1));
  return 0;
}
