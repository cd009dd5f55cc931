// Corpus BLEU as sacrebleu 2.x computes it (sacrebleu.metrics.BLEU, one reference per hypothesis,
// case-sensitive, max order 4, effective_order off), with sacrebleu's own signature string.
//
//  * each segment is rstrip()ed (Python whitespace) and tokenised: `13a` (mteval-v13a: unescape
//    &quot; &amp; &lt; &gt;, drop <skipped> and "-\n", then the regexp rules), or `zh` (strip(),
//    spaces around every code point of sacrebleu's Chinese ranges, then the same regexp rules).
//    sacrebleu writes three of those ranges as two-character strings ('\u20000', '\u2a6d6',
//    '\u2f800', '\u2fa1d'), so in effect they are U+2001..U+2A6D and U+2F81..U+2FA1 (general
//    punctuation, arrows, symbols ... are spaced out; CJK Extension B is not): reproduced.
//  * per n = 1..4: correct = clipped n-gram matches, total = hypothesis n-grams, summed over the
//    corpus with the hypothesis and reference lengths;
//  * BP = exp(1 - ref_len / sys_len) when sys_len < ref_len (0 when sys_len is 0), else 1;
//  * 0 when no n-gram of any order matched; else precisions 100 * correct / total with smoothing
//      exp   (default) the k-th zero precision becomes 100 / (2^k * total)
//      floor a zero precision becomes 100 * value / total (value 0.1 by default)
//      add-k value (1 by default) added to correct and total for n >= 2
//      none  a zero precision stays 0 (log floored at -9999999999)
//    stopping at the first order with total 0; score = BP * exp(sum(log p_n) / 4), 0..100.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "eval/text_tokenizers.h"

namespace psy::eval {

enum class SacreTokenizer { t13a, zh };
SacreTokenizer parse_sacrebleu_tokenizer(const std::string& name);  // "13a" | "zh"
std::string to_string(SacreTokenizer t);

enum class SacreSmooth { exp, floor, add_k, none };
SacreSmooth parse_sacrebleu_smooth(const std::string& name);  // "exp" | "floor" | "add-k" | "none"
std::string to_string(SacreSmooth s);

struct SacreBleuOptions {
  SacreTokenizer tokenizer = SacreTokenizer::t13a;
  SacreSmooth smooth = SacreSmooth::exp;
  std::optional<double> smooth_value;  // floor: 0.1, add-k: 1 when not given
};

// What sacrebleu's BLEU tokenizer makes of one segment (after rstrip), as the list it splits.
Tokens sacrebleu_tokenize(std::string_view segment, SacreTokenizer tokenizer);
// The same as views into `buffers` (valid until their next use; nothing allocated once they have grown).
void sacrebleu_tokenize_views(std::string_view segment, SacreTokenizer tokenizer, Sacre13aBuffers& buffers,
                              std::vector<std::string_view>& out);

// Sufficient statistics, summed over segments.
struct SacreBleuStats {
  static constexpr int kOrder = 4;
  std::array<int64_t, kOrder> correct{}, total{};
  int64_t sys_len = 0, ref_len = 0;
  SacreBleuStats& operator+=(const SacreBleuStats& other);
};

// The BLEU score (0..100) of accumulated statistics.
double sacrebleu_score(const SacreBleuStats& stats, const SacreBleuOptions& options);

// sacrebleu's BLEU signature for one reference per segment, e.g.
// "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0" ("smooth:floor[0.10]" with a value).
std::string sacrebleu_signature(const SacreBleuOptions& options);
// The sacrebleu release whose behaviour this reproduces (and whose version the signature names).
constexpr const char* kSacreBleuVersion = "2.6.0";

}  // namespace psy::eval
