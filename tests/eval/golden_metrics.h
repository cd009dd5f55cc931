// Reading ../shared/golden/metrics for the eval tests (header only; see that folder's README).
#pragma once
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/jieba_segmenter.h"
#include "tests/test_support.h"

namespace psy::test {

// The records of one golden file (en.jsonl, zh.jsonl, edge.jsonl); empty (and a SKIPPED line)
// when ../shared is absent.
inline std::vector<nlohmann::json> golden_records(const std::string& file) {
  std::vector<nlohmann::json> out;
  const std::string path = shared_path("golden/metrics/" + file);
  if (path.empty()) return out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

inline nlohmann::json golden_corpus() {
  const std::string path = shared_path("golden/metrics/corpus.json");
  if (path.empty()) return nlohmann::json();
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

inline const std::vector<std::string>& golden_files() {
  static const std::vector<std::string> files = {"en.jsonl", "zh.jsonl", "edge.jsonl"};
  return files;
}

inline std::vector<std::string> strings(const nlohmann::json& j) { return j.get<std::vector<std::string>>(); }

// jieba's data is loaded once per test run (it takes a fraction of a second).
inline const psy::eval::JiebaSegmenter& shared_jieba() {
  static const psy::eval::JiebaSegmenter seg = psy::eval::JiebaSegmenter::load();
  return seg;
}

}  // namespace psy::test
