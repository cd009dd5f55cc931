// BLEU exactly as NLTK 3.8's nltk.translate.bleu_score computes it.
//
// sentence_bleu(refs, hyp) is corpus_bleu([refs], [hyp]). corpus_bleu sums, over the pairs, the
// clipped n-gram matches (numerators) and max(1, number of hypothesis n-grams) (denominators) for
// n = 1..len(weights), the hypothesis lengths, and the closest reference lengths (ties: the shorter
// reference). Then:
//  * no unigram matched at all (empty hypothesis or reference included): 0 (NLTK returns int 0);
//  * brevity penalty BP = 1 if hyp_len > ref_len, 0 if hyp_len == 0, else exp(1 - ref_len/hyp_len);
//  * smoothing of the precisions p_n (below), then BP * exp(fsum(w_n * log p_n)).
// Smoothing (NLTK's SmoothingFunction, epsilon 0.1, k 5):
//  none    = method0: a zero precision becomes sys.float_info.min (so a tiny positive number, not 0)
//  method1 = a zero numerator becomes 0.1
//  method2 = +1 on numerator and denominator for n >= 2
//  method3 = the k-th zero precision becomes 1 / (2^k * denominator)
//  method4 = method3 scaled by log(hyp_len) / 5 (only when hyp_len > 1)
//
// For speed and flat memory, a corpus is scored from BleuCounts accumulated pair by pair.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace psy::eval {

enum class BleuSmoothing { none, method1, method2, method3, method4 };

// "none", "method0" (= none), "method1" ... "method4"; throws psy::Error otherwise.
BleuSmoothing parse_bleu_smoothing(const std::string& name);
std::string to_string(BleuSmoothing s);

constexpr int kMaxBleuOrder = 4;

// Sufficient statistics of one pair or of a whole corpus.
struct BleuCounts {
  int max_order = kMaxBleuOrder;
  std::array<int64_t, kMaxBleuOrder> numerator{};    // clipped n-gram matches
  std::array<int64_t, kMaxBleuOrder> denominator{};  // max(1, hypothesis n-grams), per pair
  int64_t hyp_len = 0;
  int64_t ref_len = 0;  // closest reference length
  BleuCounts& operator+=(const BleuCounts& other);
};

// Counts for one hypothesis against its references (n = 1..max_order, max_order <= 4).
BleuCounts bleu_counts(const std::vector<std::vector<std::string>>& references, const std::vector<std::string>& hypothesis,
                       int max_order = kMaxBleuOrder);

// bleu_counts({reference}, hypothesis) on token ids (equal ids, equal tokens: e.g. from a
// Vocabulary): the same counts, without hashing strings.
BleuCounts bleu_counts_ids(const std::vector<uint32_t>& reference, const std::vector<uint32_t>& hypothesis,
                           int max_order = kMaxBleuOrder);

// (1/n, ..., 1/n): BLEU-n as NLTK users write it.
std::vector<double> bleu_weights(int n);

// The BLEU value of accumulated counts; weights.size() <= counts.max_order.
double bleu_from_counts(const BleuCounts& counts, const std::vector<double>& weights, BleuSmoothing smoothing);

double sentence_bleu(const std::vector<std::vector<std::string>>& references, const std::vector<std::string>& hypothesis,
                     const std::vector<double>& weights, BleuSmoothing smoothing);

double corpus_bleu(const std::vector<std::vector<std::vector<std::string>>>& references,
                   const std::vector<std::vector<std::string>>& hypotheses, const std::vector<double>& weights,
                   BleuSmoothing smoothing);

}  // namespace psy::eval
