#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sys/stat.h>

#include "eval/wordnet.h"
#include "libpsy/core/error.h"
#include "tests/test_support.h"
#include "tests/eval/installed_wordnet.h"

using psy::eval::WordNet;
using psy::eval::WordNetPos;
using Strings = std::vector<std::string>;

using psy::test::installed_wordnet;

namespace {


bool contains(const Strings& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

TEST_CASE("WordNet loads the Debian wordnet-base files", "[eval][wordnet]") {
  const WordNet* wn = installed_wordnet();
  if (wn == nullptr) return;
  CHECK(wn->index_size(WordNetPos::noun) == 117798);
  CHECK(wn->index_size(WordNetPos::verb) == 11529);
  CHECK(wn->index_size(WordNetPos::adj) == 21479);
  CHECK(wn->index_size(WordNetPos::adv) == 4481);
  CHECK(wn->in_index("dog", WordNetPos::noun));
  CHECK(wn->in_index("hot_dog", WordNetPos::noun));
  CHECK_FALSE(wn->in_index("dogs", WordNetPos::noun));
  CHECK_FALSE(wn->in_index("", WordNetPos::noun));
}

TEST_CASE("morphy reproduces NLTK 3.8's _morphy", "[eval][wordnet]") {
  const WordNet* wn = installed_wordnet();
  if (wn == nullptr) return;
  // Suffix rules, the word itself first.
  CHECK(wn->morphy("dogs", WordNetPos::noun) == Strings{"dog"});
  CHECK(wn->morphy("churches", WordNetPos::noun) == Strings{"church"});
  CHECK(wn->morphy("better", WordNetPos::adj) == Strings{"better", "good", "well"});
  CHECK(wn->morphy("book", WordNetPos::noun) == Strings{"book"});
  CHECK(wn->morphy("book", WordNetPos::adj).empty());
  CHECK(wn->morphy("hardrock", WordNetPos::adv).empty());
  // Exception lists: the form itself and its listed base forms only.
  CHECK(wn->morphy("aardwolves", WordNetPos::noun) == Strings{"aardwolf"});
  CHECK(wn->morphy("abaci", WordNetPos::noun) == Strings{"abacus"});
  CHECK(wn->morphy("saw", WordNetPos::verb) == Strings{"saw", "see"});
  CHECK(wn->morphy("teeth", WordNetPos::noun) == Strings{"teeth", "tooth"});
  // NLTK 3.8 keeps applying the rules until a form is found ("catss" -> "cats" -> "cat").
  CHECK(wn->morphy("catss", WordNetPos::noun) == Strings{"cat"});
  // No lower-casing inside morphy; unknown forms give nothing.
  CHECK(wn->morphy("Dogs", WordNetPos::noun).empty());
  CHECK(wn->morphy("happi", WordNetPos::noun).empty());
  CHECK(wn->morphy(" ", WordNetPos::verb).empty());
}

TEST_CASE("synsets() returns NLTK's synsets with lemma names as written", "[eval][wordnet]") {
  const WordNet* wn = installed_wordnet();
  if (wn == nullptr) return;
  const auto dog = wn->synsets("Dogs");  // lower-cased, then morphy over n, v, a, r
  REQUIRE(dog.size() == 8);              // dog.n.01 ... andiron.n.01, chase.v.01
  CHECK(dog[0].pos == 'n');
  CHECK(dog[0].offset == 2084071u);
  CHECK(dog[0].lemma_names == Strings{"dog", "domestic_dog", "Canis_familiaris"});
  CHECK(dog[7].pos == 'v');
  CHECK(contains(dog[7].lemma_names, "chase"));

  // Adjective satellites come back with pos 's'; syntactic markers like "(ip)" are removed.
  const auto galore = wn->synsets("galore");
  REQUIRE(galore.size() == 2);
  CHECK(galore[0].pos == 's');
  CHECK(galore[0].lemma_names == Strings{"galore"});

  CHECK(wn->synsets("qwertyuiop").empty());
  CHECK(wn->synsets("").empty());
}

TEST_CASE("meteor_synonyms: lemma names without '_' and the word itself", "[eval][wordnet]") {
  const WordNet* wn = installed_wordnet();
  if (wn == nullptr) return;
  const auto dog = wn->meteor_synonyms("dog");
  CHECK(std::is_sorted(dog->names().begin(), dog->names().end()));
  CHECK(contains(dog->names(), "hound"));
  CHECK(dog->contains("dog"));
  CHECK(dog->contains("hound"));
  CHECK(dog->contains("frank"));
  CHECK_FALSE(dog->contains("hot_dog"));
  CHECK_FALSE(dog->contains("Canis_familiaris"));
  CHECK_FALSE(dog->contains("Dog"));
  CHECK_FALSE(dog->contains(""));
  CHECK(wn->meteor_synonyms("cat")->contains("CAT"));  // case kept as written
  CHECK_FALSE(wn->meteor_synonyms("cat")->contains("cat_"));
  CHECK(wn->meteor_synonyms("happi")->names() == Strings{"happi"});
  CHECK(wn->meteor_synonyms("dog") == dog);  // cached
  // Copies share the data and the cache.
  const WordNet copy = *wn;
  CHECK(copy.meteor_synonyms("dog") == dog);
}

TEST_CASE("WordNet::load names the folder and the package when files are missing or malformed", "[eval][wordnet]") {
  auto message_of = [](const std::string& dir) {
    try {
      WordNet::load(dir);
    } catch (const psy::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string missing = message_of("/nonexistent/wordnet-dir");
  CHECK(missing.find("/nonexistent/wordnet-dir") != std::string::npos);
  CHECK(missing.find("wordnet-base") != std::string::npos);

  psy::test::TempDir tmp;
  const std::string partial = message_of(tmp.path());  // folder exists, files do not
  CHECK(partial.find(tmp.path() + "/index.noun") != std::string::npos);
  CHECK(partial.find("wordnet-base") != std::string::npos);

  // A tiny WordNet of one word per part of speech loads and answers look-ups ...
  const std::pair<const char*, char> parts[] = {{"noun", 'n'}, {"verb", 'v'}, {"adj", 'a'}, {"adv", 'r'}};
  for (const auto& [name, pos] : parts) {
    psy::test::write_file(tmp.file(std::string("index.") + name),
                          std::string("  1 license header\nword ") + pos + " 1 0 1 0 00000027  \n");
    psy::test::write_file(tmp.file(std::string("data.") + name),
                          std::string("  1 license header of 27 b\n00000027 03 ") + pos + " 01 word 0 000 | gloss  \n");
    psy::test::write_file(tmp.file(std::string(name) + ".exc"), "wordz word\n");
  }
  const WordNet tiny = WordNet::load(tmp.path());
  CHECK(tiny.morphy("words", WordNetPos::noun) == Strings{"word"});
  CHECK(tiny.morphy("wordz", WordNetPos::verb) == Strings{"word"});
  CHECK(tiny.synsets("WORDS").size() == 2);  // noun and verb ("words" -> "word"); adj/adv rules do not apply

  // ... and a damaged index is reported with its file and line.
  psy::test::write_file(tmp.file("index.noun"), "  1 license header\nword x 1 0 1 0 00000027  \n");
  const std::string malformed = message_of(tmp.path());
  CHECK(malformed.find(tmp.path() + "/index.noun:2") != std::string::npos);
  CHECK(malformed.find("malformed") != std::string::npos);

  CHECK_THROWS_AS(WordNet::load("/nonexistent/wordnet-dir"), psy::Error);
}
