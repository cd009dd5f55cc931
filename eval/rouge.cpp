#include "eval/rouge.h"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <unordered_map>

#include "libpsy/core/error.h"

namespace psy::eval {

// Bit-parallel LCS (Allison-Dix; Hyyro's form V' = (V + (V & M)) | (V & ~M)): bit j of V is 0
// where the DP row increases at column j, so the LCS length is the number of zero bits. The
// shorter side's columns are processed in blocks of kBlockWords 64-bit words, each against every
// token of the longer side; a row's carry out of one block is its carry into the next, so the
// match masks of only one block are held at a time. Gives exactly the DP's length with m/64 word
// operations per token of the longer side instead of m.
size_t lcs_length_ids(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  constexpr size_t kBlockWords = 128;
  const std::vector<uint32_t>& longer = a.size() >= b.size() ? a : b;
  const std::vector<uint32_t>& shorter = a.size() >= b.size() ? b : a;
  const size_t m = shorter.size();
  if (m == 0) return 0;
  std::vector<uint8_t> carry(longer.size(), 0);  // carry into the current block, per row
  size_t zeros = 0;
  std::unordered_map<uint32_t, uint32_t> symbol;  // token id -> mask index in this block
  std::vector<uint64_t> masks;
  for (size_t block_start = 0; block_start < m; block_start += kBlockWords * 64) {
    const size_t bits = std::min(m - block_start, kBlockWords * 64);
    const size_t words = (bits + 63) / 64;
    symbol.clear();
    masks.clear();
    for (size_t j = 0; j < bits; ++j) {
      auto [it, fresh] = symbol.emplace(shorter[block_start + j], static_cast<uint32_t>(symbol.size()));
      if (fresh) masks.resize(masks.size() + words, 0);
      masks[it->second * words + j / 64] |= uint64_t{1} << (j % 64);
    }
    std::vector<uint64_t> v(words, ~uint64_t{0});
    for (size_t i = 0; i < longer.size(); ++i) {
      auto it = symbol.find(longer[i]);
      uint64_t c = carry[i];
      if (it == symbol.end() && c == 0) continue;  // V + 0 with no carry: unchanged
      const uint64_t* mk = it == symbol.end() ? nullptr : &masks[it->second * words];
      for (size_t w = 0; w < words; ++w) {
        const uint64_t mw = mk ? mk[w] : 0;
        const uint64_t vw = v[w];
        const uint64_t u = vw & mw;
        const uint64_t t = vw + c;
        const uint64_t c1 = t < c ? 1 : 0;
        const uint64_t sum = t + u;
        c = c1 | (sum < u ? 1 : 0);
        v[w] = sum | (vw & ~mw);
      }
      carry[i] = static_cast<uint8_t>(c);
    }
    for (size_t w = 0; w < words; ++w) {
      const size_t valid = std::min<size_t>(64, bits - w * 64);
      const uint64_t keep = valid == 64 ? ~uint64_t{0} : (uint64_t{1} << valid) - 1;
      zeros += valid - static_cast<size_t>(__builtin_popcountll(v[w] & keep));
    }
  }
  return zeros;
}

size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  // Compare integer ids instead of strings in the O(n*m) table: tokens of `b` get ids from 1, and a
  // token of `a` that never occurs in `b` gets 0, which matches nothing.
  std::unordered_map<std::string_view, uint32_t> ids;
  ids.reserve(b.size() * 2);
  std::vector<uint32_t> b_ids(b.size()), a_ids(a.size());
  for (size_t j = 0; j < b.size(); ++j) b_ids[j] = ids.emplace(b[j], static_cast<uint32_t>(ids.size() + 1)).first->second;
  for (size_t j = 0; j < a.size(); ++j) {
    auto it = ids.find(a[j]);
    a_ids[j] = it == ids.end() ? 0 : it->second;
  }
  return lcs_length_ids(a_ids, b_ids);
}

namespace {

RougeScore from_lcs(size_t lcs_len, size_t reference_len, size_t prediction_len) {
  RougeScore s;
  const auto lcs = static_cast<double>(lcs_len);
  s.precision = lcs / static_cast<double>(prediction_len);
  s.recall = lcs / static_cast<double>(reference_len);
  s.fmeasure = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
  return s;
}

}  // namespace

RougeScore rouge_l(const std::vector<std::string>& reference, const std::vector<std::string>& prediction) {
  if (reference.empty() || prediction.empty()) return {};
  return from_lcs(lcs_length(reference, prediction), reference.size(), prediction.size());
}

RougeScore rouge_l_ids(const std::vector<uint32_t>& reference, const std::vector<uint32_t>& prediction) {
  if (reference.empty() || prediction.empty()) return {};
  return from_lcs(lcs_length_ids(reference, prediction), reference.size(), prediction.size());
}

namespace {

double fmeasure(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

// The n-grams of `tokens` as sorted keys: n <= 2 packs the ids into one 64-bit word.
void sorted_ngrams(const std::vector<uint32_t>& tokens, int n, std::vector<uint64_t>& out) {
  out.clear();
  const auto un = static_cast<size_t>(n);
  if (tokens.size() < un) return;
  out.reserve(tokens.size() - un + 1);
  for (size_t i = 0; i + un <= tokens.size(); ++i)
    out.push_back(un == 1 ? tokens[i] : (uint64_t{tokens[i]} << 32) | tokens[i + 1]);
  std::sort(out.begin(), out.end());
}

// rouge_score's _lcs_table + _backtrack_norec: the reference indices of one LCS, ascending.
void lcs_indices(const std::vector<uint32_t>& ref, const std::vector<uint32_t>& can, std::vector<size_t>& out) {
  const size_t rows = ref.size(), cols = can.size();
  std::vector<uint32_t> t((rows + 1) * (cols + 1), 0);
  auto at = [&](size_t i, size_t j) -> uint32_t& { return t[i * (cols + 1) + j]; };
  for (size_t i = 1; i <= rows; ++i)
    for (size_t j = 1; j <= cols; ++j)
      at(i, j) = ref[i - 1] == can[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));
  size_t i = rows, j = cols;
  const size_t first = out.size();
  while (i > 0 && j > 0) {
    if (ref[i - 1] == can[j - 1]) {
      out.push_back(i - 1);
      --i;
      --j;
    } else if (at(i, j - 1) > at(i - 1, j)) {
      --j;
    } else {
      --i;
    }
  }
  std::reverse(out.begin() + static_cast<long>(first), out.end());
}

}  // namespace

RougeScore rouge_n_ids(const std::vector<uint32_t>& reference, const std::vector<uint32_t>& prediction, int n) {
  if (n < 1 || n > 2) throw Error("ROUGE-N: n " + expected_found("1 or 2", std::to_string(n)), kExitFailure);
  std::vector<uint64_t> r, p;
  sorted_ngrams(reference, n, r);
  sorted_ngrams(prediction, n, p);
  // Clipped overlap of two sorted multisets: a merge.
  size_t overlap = 0;
  for (size_t i = 0, j = 0; i < r.size() && j < p.size();) {
    if (r[i] < p[j]) {
      ++i;
    } else if (p[j] < r[i]) {
      ++j;
    } else {
      ++overlap;
      ++i;
      ++j;
    }
  }
  RougeScore s;
  s.precision = static_cast<double>(overlap) / static_cast<double>(std::max<size_t>(p.size(), 1));
  s.recall = static_cast<double>(overlap) / static_cast<double>(std::max<size_t>(r.size(), 1));
  s.fmeasure = fmeasure(s.precision, s.recall);
  return s;
}

RougeScore rouge_lsum_ids(const std::vector<std::vector<uint32_t>>& ref_sents,
                          const std::vector<std::vector<uint32_t>>& can_sents) {
  if (ref_sents.empty() || can_sents.empty()) return {};
  size_t m = 0, n = 0;
  for (const auto& s : ref_sents) m += s.size();
  for (const auto& s : can_sents) n += s.size();
  if (m == 0 || n == 0) return {};
  if (ref_sents.size() == 1 && can_sents.size() == 1) return rouge_l_ids(ref_sents[0], can_sents[0]);
  std::unordered_map<uint32_t, int64_t> count_r, count_c;
  for (const auto& s : ref_sents)
    for (uint32_t t : s) ++count_r[t];
  for (const auto& s : can_sents)
    for (uint32_t t : s) ++count_c[t];
  size_t hits = 0;
  std::vector<size_t> indices;
  for (const auto& r : ref_sents) {
    indices.clear();
    for (const auto& c : can_sents) lcs_indices(r, c, indices);
    std::sort(indices.begin(), indices.end());
    indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
    for (size_t i : indices) {
      const uint32_t t = r[i];
      auto& cc = count_c[t];
      auto& cr = count_r[t];
      if (cc > 0 && cr > 0) {
        ++hits;
        --cc;
        --cr;
      }
    }
  }
  RougeScore s;
  s.recall = static_cast<double>(hits) / static_cast<double>(m);
  s.precision = static_cast<double>(hits) / static_cast<double>(n);
  s.fmeasure = fmeasure(s.precision, s.recall);
  return s;
}

std::vector<std::string_view> rouge_lsum_sentences(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    if (nl > pos) out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

}  // namespace psy::eval
