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
#include <vector>

#include "eval/vocabulary.h"

namespace psy::eval {

class DistinctCounter {
 public:
  static constexpr int kMaxN = 4;
  explicit DistinctCounter(int max_n = 2, bool left_pad = false);

  void add(const std::vector<std::string>& tokens);
  void add_views(const std::vector<std::string_view>& tokens);  // the same on views

  // Adds everything `other` counted (same max_n and left_pad), as if its hypotheses had been
  // added here: counters filled on several threads, merged, equal one counter fed pair by pair.
  void merge(const DistinctCounter& other);

  int max_n() const { return max_n_; }
  bool left_pad() const { return left_pad_; }
  size_t unique(int n) const;
  size_t total(int n) const;
  // unique / total; nullopt when there is no n-gram at all (the reference raises ZeroDivisionError).
  std::optional<double> distinct(int n) const;

 private:
  using Key = std::array<uint32_t, kMaxN>;  // token ids + 1; 0 past the n-gram's end
  // A set of n-grams: open addressing with linear probing, at most half full (no node per n-gram).
  class KeySet {
   public:
    void insert(const Key& key);
    size_t size() const { return size_; }
    template <class Visit>
    void for_each(Visit&& visit) const {
      for (const Key& k : slots_)
        if (k[0] != 0) visit(k);
    }

   private:
    static size_t hash(const Key& k);
    std::vector<Key> slots_;
    size_t size_ = 0;
  };
  template <class Token>
  void add_tokens(const std::vector<Token>& tokens);

  int max_n_;
  bool left_pad_;
  uint32_t pad_id_;
  Vocabulary vocab_;
  std::vector<KeySet> seen_;
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
