// METEOR exactly as NLTK 3.8's nltk.translate.meteor_score computes it (meteor_score and
// single_meteor_score with their defaults: preprocess=str.lower, PorterStemmer(), WordNet).
//
// On pre-tokenised input (no splitting here; a " " token is a word like any other):
//  1. every token is lower-cased like Python's str.lower();
//  2. exact stage: hypothesis tokens are scanned from last to first, each paired with the last
//     still-unmatched equal reference token;
//  3. stem stage: the same on the Porter stems (NLTK_EXTENSIONS) of the leftovers;
//  4. WordNet stage: the same on the *stems* left over, a hypothesis stem s matching a reference
//     stem r when r is s or a lemma name (as written, names with '_' skipped) of a synset that
//     wordnet.synsets(s) returns (WordNet::meteor_synonyms);
//  5. matches are ordered by hypothesis position; a new chunk starts unless both positions
//     advance by exactly 1;
//  P = m / |hyp|, R = m / |ref|, Fmean = P·R / (alpha·P + (1 − alpha)·R),
//  penalty = gamma · (chunks / m)^beta, score = (1 − penalty) · Fmean, computed in the same
//  order of double operations as NLTK, so scores agree bit for bit.
// Empty hypothesis or reference, or no match at all: 0.0 (NLTK catches its ZeroDivisionError).
// Several references: the maximum (the first one on ties); no reference at all: 0.0 (NLTK raises
// ValueError on an empty max()).
//
// Speed: MeteorScorer interns every token it sees and memoises, per distinct word, its
// lower-cased form, its Porter stem and its WordNet synonym set (as word ids), so that scoring
// many pairs stems and looks up each word once; the stages then compare integer ids.
//
// Thread safety: a MeteorScorer is used by one thread at a time (give each thread its own); the
// free functions build a fresh one per call. The only state shared between scorers is the
// WordNet's synonym cache, which is thread-safe, so several threads may score with one WordNet.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <memory>
#include <vector>

#include "eval/vocabulary.h"
#include "eval/wordnet.h"

namespace psy::eval {

struct MeteorParams {
  double alpha = 0.9;
  double beta = 3.0;
  double gamma = 0.5;
};

// How the score of one hypothesis/reference pair came about (NLTK's own helpers give the same).
struct MeteorDetail {
  size_t hyp_len = 0;  // tokens of the hypothesis
  size_t ref_len = 0;  // tokens of the reference
  size_t exact = 0;    // matches in the exact stage
  size_t stem = 0;     // matches in the Porter-stem stage
  size_t wordnet = 0;  // matches in the WordNet-synonym stage
  size_t chunks = 0;   // chunks of the alignment; 0 when nothing matched
};

// A METEOR scorer with memo tables (see "Speed" above). Scores equal the free functions' bit for
// bit. Not thread-safe: one per thread. `wn` (and a shared `vocabulary`) must outlive the scorer.
class MeteorScorer {
 public:
  // With a vocabulary of its own, bounded: when it holds more than `max_words` distinct strings
  // (tokens, lower-cased forms, stems, synonyms) it is cleared before the next pair.
  explicit MeteorScorer(const WordNet& wn, const MeteorParams& params = {}, size_t max_words = size_t{1} << 20);
  // Sharing `vocabulary` with the other metrics of the same thread (its owner bounds it; the memo
  // starts over whenever the vocabulary is cleared).
  MeteorScorer(const WordNet& wn, Vocabulary& vocabulary, const MeteorParams& params = {});
  MeteorScorer(const MeteorScorer&) = delete;
  MeteorScorer& operator=(const MeteorScorer&) = delete;

  // NLTK's single_meteor_score(reference, hypothesis).
  double single(const std::vector<std::string>& reference, const std::vector<std::string>& hypothesis,
                MeteorDetail* detail = nullptr);
  // NLTK's meteor_score(references, hypothesis).
  double score(const std::vector<std::vector<std::string>>& references, const std::vector<std::string>& hypothesis,
               MeteorDetail* detail = nullptr);
  // single() on tokens interned in vocabulary() (the original tokens, not lower-cased).
  double single_ids(const std::vector<uint32_t>& reference, const std::vector<uint32_t>& hypothesis,
                    MeteorDetail* detail = nullptr);

  Vocabulary& vocabulary() { return *vocab_; }

 private:
  static constexpr uint32_t kUnknown = UINT32_MAX;
  struct Word {
    uint32_t lower = kUnknown;     // id of python_lower(text)
    uint32_t stem = kUnknown;      // id of porter_stem(text)
    int32_t synonyms = -1;         // index in synonym_lists_ of meteor_synonyms(text)
    uint32_t ref_alive = 0;        // unmatched reference positions holding this word, when
    uint64_t ref_stamp = 0;        //   ref_stamp is the current stage's stamp_ (else none)
    int32_t last_ref = -1;         // the last unmatched reference position holding it, when
    uint64_t last_stamp = 0;       //   last_stamp is the current stage's stamp_ (else none)
  };
  struct Side;
  size_t match_equal(Side& hyp, Side& ref);
  Word& word(uint32_t id);
  uint32_t lower_of(uint32_t id);
  uint32_t stem_of(uint32_t id);
  const std::vector<uint32_t>& synonyms_of(uint32_t id);
  void lower_all(const std::vector<std::string>& tokens, std::vector<uint32_t>& out);
  void lower_ids(const std::vector<uint32_t>& tokens, std::vector<uint32_t>& out);
  void start_pair();
  double score_lowered(const std::vector<uint32_t>& ref, const std::vector<uint32_t>& hyp, MeteorDetail& detail);

  const WordNet* wn_;
  MeteorParams params_;
  size_t max_words_;
  std::unique_ptr<Vocabulary> own_vocab_;
  Vocabulary* vocab_;
  uint64_t generation_ = 0;  // the vocabulary's generation that words_ describes
  uint64_t stamp_ = 0;       // counts synonym stages (Word::ref_stamp)
  std::vector<Word> words_;  // [id]
  std::vector<std::vector<uint32_t>> synonym_lists_;  // sorted word ids
  // Scratch space reused between pairs.
  std::vector<uint32_t> hyp_ids_, ref_ids_, hyp_words_, ref_words_;
  std::vector<char> hyp_alive_, ref_alive_;
  std::vector<long> ref_of_hyp_;
  std::vector<int32_t> previous_same_;  // [reference position]: the previous alive one with its word
};

// NLTK's single_meteor_score(reference, hypothesis).
double single_meteor_score(const std::vector<std::string>& reference, const std::vector<std::string>& hypothesis,
                           const WordNet& wn, const MeteorParams& params = {}, MeteorDetail* detail = nullptr);

// NLTK's meteor_score(references, hypothesis): the best single score over the references;
// `detail` describes the reference that gave it.
double meteor_score(const std::vector<std::vector<std::string>>& references, const std::vector<std::string>& hypothesis,
                    const WordNet& wn, const MeteorParams& params = {}, MeteorDetail* detail = nullptr);

}  // namespace psy::eval
