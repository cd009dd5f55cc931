// ROUGE-L as Google's rouge_score 0.1.2 computes it (RougeScorer(["rougeL"]).score(target, prediction)):
// LCS of the token lists, precision = LCS / len(prediction), recall = LCS / len(target),
// F = 2PR / (P + R) (0 when P + R = 0); an empty side gives P = R = F = 0.
// Tokenise with rouge_tokenize / rouge_tokenize_stemmed (text_tokenizers.h) for the package's
// default tokenizer, or pass jieba / character tokens as its custom tokenizers do.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
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

}  // namespace psy::eval
