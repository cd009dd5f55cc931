#include <catch2/catch.hpp>

#include "eval/porter_stemmer.h"
#include "tests/eval/golden_metrics.h"

using psy::eval::porter_stem;
using psy::eval::python_lower;

TEST_CASE("Porter stems equal NLTK 3.8 PorterStemmer().stem(t.lower()) on every golden token", "[eval][porter]") {
  size_t compared = 0;
  for (const auto& file : psy::test::golden_files()) {
    for (const auto& rec : psy::test::golden_records(file)) {
      for (const char* side : {"hyp", "ref"}) {
        const auto tokens = psy::test::strings(rec["tokens"][std::string(side) + "_ws"]);
        const auto stems = psy::test::strings(rec["tokens"][std::string(side) + "_ws_porter"]);
        REQUIRE(tokens.size() == stems.size());
        for (size_t i = 0; i < tokens.size(); ++i) {
          INFO(file << " " << rec["id"].get<std::string>() << " " << side << " token " << i << " '" << tokens[i] << "'");
          CHECK(porter_stem(python_lower(tokens[i])) == stems[i]);
          ++compared;
        }
      }
    }
  }
  if (!psy::test::shared_dir().empty()) CHECK(compared > 9000);
}

TEST_CASE("Porter stemmer: NLTK_EXTENSIONS rules and irregular forms", "[eval][porter]") {
  // Step 1a/1b with NLTK's extensions: four-letter -ies/-ied keep the 'e'.
  CHECK(porter_stem("caresses") == "caress");
  CHECK(porter_stem("ponies") == "poni");
  CHECK(porter_stem("flies") == "fli");
  CHECK(porter_stem("dies") == "die");
  CHECK(porter_stem("ties") == "tie");
  CHECK(porter_stem("spied") == "spi");
  CHECK(porter_stem("died") == "die");
  CHECK(porter_stem("agreed") == "agre");
  CHECK(porter_stem("feed") == "feed");
  CHECK(porter_stem("hopping") == "hop");
  CHECK(porter_stem("meetings") == "meet");
  // Step 1c: y -> i only after a consonant.
  CHECK(porter_stem("happy") == "happi");
  CHECK(porter_stem("enjoy") == "enjoy");
  CHECK(porter_stem("fly") == "fli");
  // Steps 2-5.
  CHECK(porter_stem("relational") == "relat");
  CHECK(porter_stem("conditional") == "condit");
  CHECK(porter_stem("generalization") == "gener");
  CHECK(porter_stem("hopeful") == "hope");
  CHECK(porter_stem("goodness") == "good");
  CHECK(porter_stem("electrical") == "electr");
  CHECK(porter_stem("adjustable") == "adjust");
  CHECK(porter_stem("geology") == "geolog");
  CHECK(porter_stem("controll") == "control");
  CHECK(porter_stem("roll") == "roll");
  // The pool of irregular forms, and words of one or two characters.
  CHECK(porter_stem("dying") == "die");
  CHECK(porter_stem("skies") == "sky");
  CHECK(porter_stem("news") == "news");
  CHECK(porter_stem("proceed") == "proceed");
  CHECK(porter_stem("is") == "is");
  CHECK(porter_stem("was") == "wa");
  CHECK(porter_stem("") == "");
  // NLTK looks the pool up before lower-casing, so "Skies" is stemmed by the rules.
  CHECK(porter_stem("Skies") == "ski");
}

TEST_CASE("Porter stemmer lower-cases by default, as NLTK's stem(to_lowercase=True)", "[eval][porter]") {
  CHECK(porter_stem("Running") == "run");
  CHECK(porter_stem("Running", /*to_lowercase=*/false) == "Run");
  CHECK(porter_stem("IS") == "is");
  CHECK(porter_stem("IS", false) == "IS");
  // Code points, not bytes: non-ASCII letters count as one consonant each.
  CHECK(porter_stem("clichés") == "cliché");
  CHECK(porter_stem("naïve") == "naïv");
}

TEST_CASE("python_lower follows Python's str.lower()", "[eval][porter]") {
  CHECK(python_lower("Hello WORLD 42!") == "hello world 42!");
  CHECK(python_lower("ÀÉÎÕÜ Ñ") == "àéîõü ñ");
  CHECK(python_lower("ＡＢＣ") == "ａｂｃ");  // full-width Latin
  CHECK(python_lower("ΣΟΦΟΣ") == "σοφος");   // final sigma
  CHECK(python_lower("İ") == "i\xcc\x87");    // U+0130 -> i + U+0307
  CHECK(python_lower("我明白") == "我明白");
  CHECK(python_lower("") == "");
}
