// ROUGE-1/2 (ROUGE-N), ROUGE-L and ROUGE-Lsum as Google's rouge_score 0.1.2 computes them.
//
// ROUGE-L (RougeScorer(["rougeL"]).score(target, prediction)):
// LCS of the token lists, precision = LCS / len(prediction), recall = LCS / len(target),
// F = 2PR / (P + R) (0 when P + R = 0); an empty side gives P = R = F = 0.
// Tokenise with rouge_tokenize / rouge_tokenize_stemmed (text_tokenizers.h) for the package's
// default tokenizer, or pass jieba / character tokens as its custom tokenizers do.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace psy::eval {

struct RougeScore {
  double precision = 0.0;
  double recall = 0.0;
  double fmeasure = 0.0;
};

// Length of the longest common subsequence.
size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b);

RougeScore rouge_l(const std::vector<std::string>& reference, const std::vector<std::string>& prediction);

// The same on token ids (equal ids, equal tokens: e.g. from a Vocabulary).
size_t lcs_length_ids(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
RougeScore rouge_l_ids(const std::vector<uint32_t>& reference, const std::vector<uint32_t>& prediction);

// ROUGE-N, n = 1 or 2 (rouge_score's _score_ngrams): clipped n-gram overlap; P = overlap / max(1, prediction
// n-grams), R = overlap / max(1, reference n-grams), F = 2PR / (P + R) (0 when P + R = 0).
RougeScore rouge_n_ids(const std::vector<uint32_t>& reference, const std::vector<uint32_t>& prediction, int n);

// ROUGE-Lsum (rouge_score's _summary_level_lcs): the texts are lists of sentences (rouge_score
// splits on "\n" and drops empty lines); for each reference sentence, the union of one LCS with
// every prediction sentence (the LCS rouge_score's backtracking picks), whose tokens count as hits
// while both sides still have unused occurrences of them. P = hits / prediction tokens, R = hits /
// reference tokens; 0 when a side has no sentence or no token. With one sentence on each side it
// equals ROUGE-L.
RougeScore rouge_lsum_ids(const std::vector<std::vector<uint32_t>>& reference_sentences,
                          const std::vector<std::vector<uint32_t>>& prediction_sentences);

// rouge_score's get_sents without the NLTK sentence splitter: text.split("\n"), empty parts dropped.
std::vector<std::string_view> rouge_lsum_sentences(std::string_view text);

}  // namespace psy::eval
