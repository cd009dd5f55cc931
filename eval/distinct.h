// Diversity of generated text: Distinct-n and Expectation-Adjusted Distinct (EAD).
//
// DistinctCounter pools the n-grams of every hypothesis added (n-grams never cross two
// hypotheses) and keeps only the set of distinct n-grams, so memory grows with the vocabulary,
// not with the number of hypotheses.
//  * plain (left_pad = false): Distinct-n = distinct n-grams / all n-grams, no padding (Li et al.);
//  * left_pad = true: as the Hugging Face `lsy641/distinct` module does it, each hypothesis is
//    padded on the left with n-1 "<s>" tokens (nltk.util.ngrams(..., pad_left=True,
//    left_pad_symbol="<s>")), so a hypothesis of L tokens has L n-grams for every n.
// EAD = N / (V * (1 - ((V-1)/V)^C)) with N distinct unigrams, C all unigrams, V the vocabulary size.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "eval/vocabulary.h"

namespace psy::eval {

class DistinctCounter {
 public:
  static constexpr int kMaxN = 4;
  explicit DistinctCounter(int max_n = 2, bool left_pad = false);

  void add(const std::vector<std::string>& tokens);
  void add_views(const std::vector<std::string_view>& tokens);  // the same on views

  int max_n() const { return max_n_; }
  bool left_pad() const { return left_pad_; }
  size_t unique(int n) const;
  size_t total(int n) const;
  // unique / total; nullopt when there is no n-gram at all (the reference raises ZeroDivisionError).
  std::optional<double> distinct(int n) const;

 private:
  struct KeyHash {
    size_t operator()(const std::array<uint32_t, kMaxN>& k) const {
      uint64_t h = 0x9E3779B97F4A7C15ULL;
      for (uint32_t v : k) h = (h ^ v) * 0x100000001B3ULL + (h >> 29);
      return static_cast<size_t>(h ^ (h >> 32));
    }
  };
  template <class Token>
  void add_tokens(const std::vector<Token>& tokens);

  int max_n_;
  bool left_pad_;
  uint32_t pad_id_;
  Vocabulary vocab_;
  std::vector<std::unordered_set<std::array<uint32_t, kMaxN>, KeyHash>> seen_;
  std::vector<size_t> total_;
};

// EAD from counts; nullopt when total_unigrams is 0 (or vocab_size < 1).
std::optional<double> expectation_adjusted_distinct(size_t unique_unigrams, size_t total_unigrams, long vocab_size);

// What lsy641/distinct returns in mode "Expectation-Adjusted-Distinct".
struct Lsy641Distinct {
  double ead = 0, distinct1 = 0, distinct2 = 0, distinct3 = 0;
};
// From a counter built with max_n >= 3 and left_pad = true; nullopt when there are no tokens at all.
std::optional<Lsy641Distinct> lsy641_distinct(const DistinctCounter& counter, long vocab_size);

}  // namespace psy::eval
