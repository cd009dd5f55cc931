// WordNet 3.0 read from the WordNet database files (the Debian package wordnet-base installs
// them in /usr/share/wordnet), with the look-ups NLTK 3.8's WordNetCorpusReader does for METEOR:
// `_morphy` (exception lists, per-part-of-speech suffix rules applied repeatedly, only forms
// present in the index kept, the word itself tried first) and `synsets(word)` over all parts of
// speech, giving each synset's lemma names as written (case kept, syntactic markers such as
// "(a)" or "(ip)" removed).
//
// Loading maps the four data files read-only (only the pages a look-up touches are read) and
// builds a sorted table of line starts for the index and exception files: tens of milliseconds
// and about 1 MB of heap. Files: index.{noun,verb,adj,adv}, data.{noun,verb,adj,adv},
// {noun,verb,adj,adv}.exc (no lexnames file is needed).
//
// A WordNet is cheap to copy (the loaded data is shared) and safe to use from several threads:
// the database is immutable once loaded, and the cache of METEOR synonym sets behind
// meteor_synonyms() is guarded by a mutex.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace psy::eval {

enum class WordNetPos { noun, verb, adj, adv };

// NLTK's POS_LIST order, which synsets() follows.
constexpr WordNetPos kWordNetPosOrder[] = {WordNetPos::noun, WordNetPos::verb, WordNetPos::adj,
                                           WordNetPos::adv};

struct WordNetSynset {
  char pos = 'n';           // ss_type as the data file has it: n, v, a, s (adjective satellite) or r
  uint32_t offset = 0;      // byte offset in data.<pos>
  std::vector<std::string> lemma_names;  // as written, markers removed ("dog", "Canis_familiaris")
};

// The synonym set METEOR builds for one word, with a fast membership test.
class SynonymSet {
 public:
  explicit SynonymSet(std::vector<std::string> names);  // sorted and made unique here
  const std::vector<std::string>& names() const { return names_; }
  size_t size() const { return names_.size(); }
  bool contains(std::string_view s) const { return contains(hash(s), s); }
  // With hash(s) computed once by the caller (METEOR tests each reference word many times).
  bool contains(uint64_t hash_of_s, std::string_view s) const;
  static uint64_t hash(std::string_view s);  // 64-bit FNV-1a

 private:
  std::vector<std::string> names_;
  // Open-addressing table of (hash, index in names_ + 1); index 0 marks an empty slot.
  std::vector<std::pair<uint64_t, uint32_t>> table_;
  uint64_t mask_ = 0;
};

class WordNet {
 public:
  // Loads WordNet from `dir`; empty -> env PSY_WORDNET_DIR, else /usr/share/wordnet.
  // Throws psy::Error naming the folder and the Debian package when a file is missing or malformed.
  static WordNet load(const std::string& dir = "");

  const std::string& dir() const;

  // NLTK's wordnet._morphy(form, pos): the base forms of `form` found in the index for `pos`,
  // in NLTK's order (no lower-casing here; NLTK's synsets() lower-cases before calling it).
  std::vector<std::string> morphy(const std::string& form, WordNetPos pos) const;

  // True when `lemma` (lower case, '_' for spaces) is in index.<pos>.
  bool in_index(std::string_view lemma, WordNetPos pos) const;

  // NLTK's wordnet.synsets(word): word lower-cased like Python, then for each part of speech in
  // kWordNetPosOrder, each form morphy() returns, each synset offset of that form in the index.
  // Duplicates are kept, as NLTK keeps them.
  std::vector<WordNetSynset> synsets(const std::string& word) const;

  // The synonym set NLTK 3.8's METEOR builds for a (stemmed) hypothesis word: the lemma names
  // without '_' of every synset synsets(word) returns, plus the word itself.
  // Results are cached in this WordNet (shared by its copies; thread-safe).
  std::shared_ptr<const SynonymSet> meteor_synonyms(const std::string& word) const;

  // Number of lemmas in index.<pos> (for reports and tests).
  size_t index_size(WordNetPos pos) const;

  struct Impl;
  struct Cache;

 private:
  std::shared_ptr<const Impl> impl_;
  std::shared_ptr<Cache> cache_;
};

}  // namespace psy::eval
