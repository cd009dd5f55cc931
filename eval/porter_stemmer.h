// The Porter stemmer exactly as NLTK 3.8's `PorterStemmer()` applies it in its default
// NLTK_EXTENSIONS mode (the stemmer NLTK's METEOR and Google's rouge_score use), and the
// Python-style lower-casing that goes with it.
//
// NLTK specifics reproduced here (they differ from Martin Porter's published algorithm):
//  - a pool of irregular forms is looked up first on the word as given (before lower-casing):
//    sky/skies -> sky, dying -> die, lying -> lie, tying -> tie, news -> news,
//    innings/inning -> inning, outings/outing -> outing, cannings/canning -> canning,
//    howe -> howe, proceed, exceed, succeed unchanged;
//  - words of at most two characters are returned (lower-cased) without stemming;
//  - step 1a: a four-letter word ending in "ies" becomes "...ie" ("dies" -> "die"),
//    otherwise "ies" -> "i"; step 1b: "ied" -> "ie" for four letters, else "i";
//  - step 1c: y -> i only after a consonant that is not the first letter;
//  - step 2: "alli" -> "al" is tried first and step 2 is re-run; "bli" -> "ble",
//    "fulli" -> "ful", "logi" -> "log" (the measure counts the 'l');
//  - the *o (cvc) test also accepts a two-letter vowel-consonant stem.
// Stemming works on Unicode code points as Python does: every character that is not
// a, e, i, o, u (or y after a consonant) counts as a consonant, digits and punctuation included.
#pragma once
#include <string>
#include <string_view>

namespace psy::eval {

// NLTK's `PorterStemmer().stem(word, to_lowercase)`. With to_lowercase (NLTK's default) the
// word is lower-cased like Python's str.lower() first; without it, upper-case letters are
// stemmed as consonants (NLTK's behaviour). Input and output are UTF-8.
std::string porter_stem(const std::string& word, bool to_lowercase = true);

// Python's str.lower() on UTF-8 text: the Unicode simple lower-case mapping of each
// character (via the C library's C.UTF-8 tables; ASCII only if that locale is missing),
// plus Python's special cases U+0130 -> "i\u0307" and the final sigma. Invalid bytes
// come back as U+FFFD.
std::string python_lower(std::string_view text);

}  // namespace psy::eval
