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
// Thread safety: the functions keep no state of their own; the only shared state is the
// WordNet's synonym cache, which is thread-safe, so several threads may score with one WordNet.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

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

// NLTK's single_meteor_score(reference, hypothesis).
double single_meteor_score(const std::vector<std::string>& reference, const std::vector<std::string>& hypothesis,
                           const WordNet& wn, const MeteorParams& params = {}, MeteorDetail* detail = nullptr);

// NLTK's meteor_score(references, hypothesis): the best single score over the references;
// `detail` describes the reference that gave it.
double meteor_score(const std::vector<std::vector<std::string>>& references, const std::vector<std::string>& hypothesis,
                    const WordNet& wn, const MeteorParams& params = {}, MeteorDetail* detail = nullptr);

}  // namespace psy::eval
