#include "eval/meteor.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "eval/porter_stemmer.h"

namespace psy::eval {

namespace {

constexpr long kUnmatched = -1;

bool ascii_lower_already(const std::string& s) {
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x80 || (c >= 'A' && c <= 'Z')) return false;
  }
  return true;
}

}  // namespace

// The words of one side (word ids: lower-cased tokens, then stems) and which are still unmatched.
struct MeteorScorer::Side {
  std::vector<uint32_t>& words;
  std::vector<char>& alive;
  size_t alive_count;

  Side(std::vector<uint32_t>& w, std::vector<char>& a) : words(w), alive(a), alive_count(w.size()) {
    alive.assign(w.size(), 1);
  }

  void match(size_t i) {
    alive[i] = 0;
    --alive_count;
  }
};

// NLTK's _match_enums on the alive words: hypothesis words from last to first, each paired with
// the last alive equal reference word. Each word keeps the stack of its alive reference
// positions (top: the last one; previous_same_ links the rest), so the stage is linear.
size_t MeteorScorer::match_equal(Side& hyp, Side& ref) {
  if (hyp.alive_count == 0 || ref.alive_count == 0) return 0;
  const uint64_t stamp = ++stamp_;
  previous_same_.assign(ref.words.size(), -1);
  for (size_t j = 0; j < ref.words.size(); ++j) {
    if (!ref.alive[j]) continue;
    Word& w = word(ref.words[j]);
    previous_same_[j] = w.last_stamp == stamp ? w.last_ref : -1;
    w.last_stamp = stamp;
    w.last_ref = static_cast<int32_t>(j);
  }
  size_t count = 0;
  for (size_t i = hyp.words.size(); i-- > 0;) {
    if (!hyp.alive[i]) continue;
    Word& w = word(hyp.words[i]);
    if (w.last_stamp != stamp || w.last_ref < 0) continue;
    const auto j = static_cast<size_t>(w.last_ref);
    w.last_ref = previous_same_[j];
    ref_of_hyp_[i] = static_cast<long>(j);
    hyp.match(i);
    ref.match(j);
    ++count;
  }
  return count;
}

MeteorScorer::MeteorScorer(const WordNet& wn, const MeteorParams& params, size_t max_words)
    : wn_(&wn),
      params_(params),
      max_words_(std::max<size_t>(1, max_words)),
      own_vocab_(std::make_unique<Vocabulary>()),
      vocab_(own_vocab_.get()) {}

MeteorScorer::MeteorScorer(const WordNet& wn, Vocabulary& vocabulary, const MeteorParams& params)
    : wn_(&wn), params_(params), max_words_(SIZE_MAX), vocab_(&vocabulary), generation_(vocabulary.generation()) {}

MeteorScorer::Word& MeteorScorer::word(uint32_t id) {
  if (id >= words_.size()) words_.resize(std::max<size_t>(vocab_->size(), size_t{id} + 1));
  return words_[id];
}

uint32_t MeteorScorer::lower_of(uint32_t id) {
  if (word(id).lower == kUnknown) {
    const std::string& text = vocab_->text(id);
    const uint32_t lower = ascii_lower_already(text) ? id : vocab_->id(python_lower(text));
    word(id).lower = lower;
    word(lower).lower = lower;  // lower-casing is idempotent
  }
  return words_[id].lower;
}

uint32_t MeteorScorer::stem_of(uint32_t id) {
  if (word(id).stem == kUnknown) {
    const uint32_t stem = vocab_->id(porter_stem(vocab_->text(id)));
    word(id).stem = stem;
  }
  return words_[id].stem;
}

const std::vector<uint32_t>& MeteorScorer::synonyms_of(uint32_t id) {
  if (word(id).synonyms < 0) {
    const auto set = wn_->meteor_synonyms(vocab_->text(id));
    std::vector<uint32_t> list;
    list.reserve(set->size());
    for (const std::string& name : set->names()) list.push_back(vocab_->id(name));
    std::sort(list.begin(), list.end());
    word(id).synonyms = static_cast<int32_t>(synonym_lists_.size());
    synonym_lists_.push_back(std::move(list));
  }
  return synonym_lists_[static_cast<size_t>(words_[id].synonyms)];
}

void MeteorScorer::lower_all(const std::vector<std::string>& tokens, std::vector<uint32_t>& out) {
  out.clear();
  out.reserve(tokens.size());
  for (const std::string& t : tokens) out.push_back(lower_of(vocab_->id(t)));
}

void MeteorScorer::lower_ids(const std::vector<uint32_t>& tokens, std::vector<uint32_t>& out) {
  out.clear();
  out.reserve(tokens.size());
  for (uint32_t t : tokens) out.push_back(lower_of(t));
}

void MeteorScorer::start_pair() {
  if (own_vocab_ && vocab_->size() > max_words_) vocab_->clear();
  if (generation_ != vocab_->generation()) {
    generation_ = vocab_->generation();
    words_.clear();
    synonym_lists_.clear();
  }
}

double MeteorScorer::score_lowered(const std::vector<uint32_t>& ref_lower, const std::vector<uint32_t>& hyp_lower,
                               MeteorDetail& detail) {
  detail = MeteorDetail{};
  detail.hyp_len = hyp_lower.size();
  detail.ref_len = ref_lower.size();

  hyp_words_.assign(hyp_lower.begin(), hyp_lower.end());
  ref_words_.assign(ref_lower.begin(), ref_lower.end());
  Side hyp(hyp_words_, hyp_alive_);
  Side ref(ref_words_, ref_alive_);
  std::vector<long>& ref_of_hyp = ref_of_hyp_;
  ref_of_hyp.assign(hyp.words.size(), kUnmatched);
  detail.exact = match_equal(hyp, ref);
  if (hyp.alive_count > 0 && ref.alive_count > 0) {
    for (size_t i = 0; i < hyp.words.size(); ++i)
      if (hyp.alive[i]) hyp.words[i] = stem_of(hyp.words[i]);
    for (size_t j = 0; j < ref.words.size(); ++j)
      if (ref.alive[j]) ref.words[j] = stem_of(ref.words[j]);
    detail.stem = match_equal(hyp, ref);
  }
  if (hyp.alive_count > 0 && ref.alive_count > 0) {
    // NLTK's _enum_wordnetsyn_match on the alive stems. Each word knows how many alive reference
    // positions hold it, so that a synonym set sharing nothing with them is passed over at once.
    const uint64_t stamp = ++stamp_;
    for (size_t j = 0; j < ref.words.size(); ++j) {
      if (!ref.alive[j]) continue;
      Word& w = word(ref.words[j]);
      if (w.ref_stamp != stamp) {
        w.ref_stamp = stamp;
        w.ref_alive = 0;
      }
      ++w.ref_alive;
    }
    for (size_t i = hyp.words.size(); i-- > 0;) {
      if (ref.alive_count == 0) break;  // nothing left to match; the look-ups have no other effect
      if (!hyp.alive[i]) continue;
      const std::vector<uint32_t>& synonyms = synonyms_of(hyp.words[i]);
      bool any = false;
      for (const uint32_t name : synonyms) {
        const Word& w = word(name);
        if (w.ref_stamp == stamp && w.ref_alive > 0) {
          any = true;
          break;
        }
      }
      if (!any) continue;
      for (size_t j = ref.words.size(); j-- > 0;) {
        if (!ref.alive[j] || !std::binary_search(synonyms.begin(), synonyms.end(), ref.words[j])) continue;
        ref_of_hyp[i] = static_cast<long>(j);
        hyp.match(i);
        ref.match(j);
        --words_[ref.words[j]].ref_alive;
        ++detail.wordnet;
        break;
      }
    }
  }

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
  const double denominator = params_.alpha * precision + (1 - params_.alpha) * recall;
  if (denominator == 0.0) return 0.0;
  const double fmean = (precision * recall) / denominator;
  const double frag_frac = static_cast<double>(detail.chunks) / m;
  const double penalty = params_.gamma * std::pow(frag_frac, params_.beta);
  return (1 - penalty) * fmean;
}

double MeteorScorer::single(const std::vector<std::string>& reference, const std::vector<std::string>& hypothesis,
                            MeteorDetail* detail) {
  start_pair();
  lower_all(hypothesis, hyp_ids_);
  lower_all(reference, ref_ids_);
  MeteorDetail d;
  const double score = score_lowered(ref_ids_, hyp_ids_, d);
  if (detail != nullptr) *detail = d;
  return score;
}

double MeteorScorer::single_ids(const std::vector<uint32_t>& reference, const std::vector<uint32_t>& hypothesis,
                                MeteorDetail* detail) {
  start_pair();
  lower_ids(hypothesis, hyp_ids_);
  lower_ids(reference, ref_ids_);
  MeteorDetail d;
  const double score = score_lowered(ref_ids_, hyp_ids_, d);
  if (detail != nullptr) *detail = d;
  return score;
}

double MeteorScorer::score(const std::vector<std::vector<std::string>>& references,
                           const std::vector<std::string>& hypothesis, MeteorDetail* detail) {
  start_pair();
  lower_all(hypothesis, hyp_ids_);
  double best = 0.0;
  MeteorDetail best_detail;
  best_detail.hyp_len = hyp_ids_.size();
  bool first = true;
  for (const auto& reference : references) {
    lower_all(reference, ref_ids_);
    MeteorDetail d;
    const double score = score_lowered(ref_ids_, hyp_ids_, d);
    if (first || score > best) {
      best = score;
      best_detail = d;
      first = false;
    }
  }
  if (detail != nullptr) *detail = best_detail;
  return best;
}

double single_meteor_score(const std::vector<std::string>& reference, const std::vector<std::string>& hypothesis,
                           const WordNet& wn, const MeteorParams& params, MeteorDetail* detail) {
  return MeteorScorer(wn, params).single(reference, hypothesis, detail);
}

double meteor_score(const std::vector<std::vector<std::string>>& references, const std::vector<std::string>& hypothesis,
                    const WordNet& wn, const MeteorParams& params, MeteorDetail* detail) {
  return MeteorScorer(wn, params).score(references, hypothesis, detail);
}

}  // namespace psy::eval
