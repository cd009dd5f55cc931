#include "eval/meteor.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <unordered_map>

#include "eval/porter_stemmer.h"

namespace psy::eval {

namespace {

constexpr long kUnmatched = -1;

// The words of one side and which of them are still unmatched.
struct Side {
  std::vector<std::string_view> words;  // lower-cased tokens, then (from the stem stage on) stems
  std::vector<std::string> stems;       // storage for the stems
  std::vector<char> alive;
  size_t alive_count = 0;

  explicit Side(const std::vector<std::string>& lower)
      : words(lower.begin(), lower.end()), alive(lower.size(), 1), alive_count(lower.size()) {}

  void match(size_t i) {
    alive[i] = 0;
    --alive_count;
  }
};

std::vector<std::string> lowered(const std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (const std::string& t : tokens) out.push_back(python_lower(t));
  return out;
}

// NLTK's _match_enums on the alive words: hypothesis words from last to first, each paired with
// the last alive equal reference word. Small inputs scan directly; larger ones keep, per word, a
// stack of alive reference positions whose top is the last one, so the stage stays linear.
size_t match_equal(Side& hyp, Side& ref, std::vector<long>& ref_of_hyp) {
  if (hyp.alive_count == 0 || ref.alive_count == 0) return 0;
  size_t count = 0;
  if (hyp.alive_count * ref.alive_count <= 2048) {
    for (size_t i = hyp.words.size(); i-- > 0;) {
      if (!hyp.alive[i]) continue;
      for (size_t j = ref.words.size(); j-- > 0;) {
        if (!ref.alive[j] || ref.words[j] != hyp.words[i]) continue;
        ref_of_hyp[i] = static_cast<long>(j);
        hyp.match(i);
        ref.match(j);
        ++count;
        break;
      }
    }
    return count;
  }
  std::unordered_map<std::string_view, std::vector<size_t>> positions;
  positions.reserve(ref.alive_count * 2);
  for (size_t j = 0; j < ref.words.size(); ++j)
    if (ref.alive[j]) positions[ref.words[j]].push_back(j);
  for (size_t i = hyp.words.size(); i-- > 0;) {
    if (!hyp.alive[i]) continue;
    auto it = positions.find(hyp.words[i]);
    if (it == positions.end() || it->second.empty()) continue;
    const size_t j = it->second.back();
    it->second.pop_back();
    ref_of_hyp[i] = static_cast<long>(j);
    hyp.match(i);
    ref.match(j);
    ++count;
  }
  return count;
}

void stem_alive(Side& side) {
  side.stems.resize(side.words.size());
  for (size_t i = 0; i < side.words.size(); ++i) {
    if (!side.alive[i]) continue;
    side.stems[i] = porter_stem(std::string(side.words[i]));
    side.words[i] = side.stems[i];
  }
}

// NLTK's _enum_wordnetsyn_match on the alive stems.
size_t match_synonyms(Side& hyp, Side& ref, const WordNet& wn, std::vector<long>& ref_of_hyp) {
  std::vector<uint64_t> ref_hash(ref.words.size(), 0);
  for (size_t j = 0; j < ref.words.size(); ++j)
    if (ref.alive[j]) ref_hash[j] = SynonymSet::hash(ref.words[j]);
  size_t count = 0;
  for (size_t i = hyp.words.size(); i-- > 0;) {
    if (ref.alive_count == 0) break;  // nothing left to match; the look-ups have no other effect
    if (!hyp.alive[i]) continue;
    const auto synonyms = wn.meteor_synonyms(std::string(hyp.words[i]));
    for (size_t j = ref.words.size(); j-- > 0;) {
      if (!ref.alive[j] || !synonyms->contains(ref_hash[j], ref.words[j])) continue;
      ref_of_hyp[i] = static_cast<long>(j);
      hyp.match(i);
      ref.match(j);
      ++count;
      break;
    }
  }
  return count;
}

double score_lowered(const std::vector<std::string>& ref_lower, const std::vector<std::string>& hyp_lower,
                     const WordNet& wn, const MeteorParams& params, MeteorDetail& detail) {
  detail = MeteorDetail{};
  detail.hyp_len = hyp_lower.size();
  detail.ref_len = ref_lower.size();

  Side hyp(hyp_lower);
  Side ref(ref_lower);
  std::vector<long> ref_of_hyp(hyp.words.size(), kUnmatched);
  detail.exact = match_equal(hyp, ref, ref_of_hyp);
  if (hyp.alive_count > 0 && ref.alive_count > 0) {
    stem_alive(hyp);
    stem_alive(ref);
    detail.stem = match_equal(hyp, ref, ref_of_hyp);
  }
  if (hyp.alive_count > 0 && ref.alive_count > 0) detail.wordnet = match_synonyms(hyp, ref, wn, ref_of_hyp);

  // Chunks over the matches in hypothesis order.
  size_t matches = 0;
  long prev_hyp = -2, prev_ref = -2;
  for (size_t i = 0; i < ref_of_hyp.size(); ++i) {
    const long j = ref_of_hyp[i];
    if (j == kUnmatched) continue;
    const long ii = static_cast<long>(i);
    if (matches == 0 || !(ii == prev_hyp + 1 && j == prev_ref + 1)) ++detail.chunks;
    ++matches;
    prev_hyp = ii;
    prev_ref = j;
  }

  // NLTK's arithmetic, in its order; every ZeroDivisionError it would raise gives 0.0.
  if (detail.hyp_len == 0 || detail.ref_len == 0 || matches == 0) return 0.0;
  const double m = static_cast<double>(matches);
  const double precision = m / static_cast<double>(detail.hyp_len);
  const double recall = m / static_cast<double>(detail.ref_len);
  const double denominator = params.alpha * precision + (1 - params.alpha) * recall;
  if (denominator == 0.0) return 0.0;
  const double fmean = (precision * recall) / denominator;
  const double frag_frac = static_cast<double>(detail.chunks) / m;
  const double penalty = params.gamma * std::pow(frag_frac, params.beta);
  return (1 - penalty) * fmean;
}

}  // namespace

double single_meteor_score(const std::vector<std::string>& reference, const std::vector<std::string>& hypothesis,
                           const WordNet& wn, const MeteorParams& params, MeteorDetail* detail) {
  MeteorDetail d;
  const double score = score_lowered(lowered(reference), lowered(hypothesis), wn, params, d);
  if (detail != nullptr) *detail = d;
  return score;
}

double meteor_score(const std::vector<std::vector<std::string>>& references, const std::vector<std::string>& hypothesis,
                    const WordNet& wn, const MeteorParams& params, MeteorDetail* detail) {
  const std::vector<std::string> hyp_lower = lowered(hypothesis);
  double best = 0.0;
  MeteorDetail best_detail;
  best_detail.hyp_len = hyp_lower.size();
  bool first = true;
  for (const auto& reference : references) {
    MeteorDetail d;
    const double score = score_lowered(lowered(reference), hyp_lower, wn, params, d);
    if (first || score > best) {
      best = score;
      best_detail = d;
      first = false;
    }
  }
  if (detail != nullptr) *detail = best_detail;
  return best;
}

}  // namespace psy::eval
