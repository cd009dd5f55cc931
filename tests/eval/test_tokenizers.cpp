#include <catch2/catch.hpp>

#include "eval/jieba_segmenter.h"
#include "eval/md5.h"
#include "eval/text_tokenizers.h"
#include "libpsy/core/error.h"
#include "tests/eval/golden_metrics.h"

using namespace psy::eval;
using psy::test::strings;

namespace {

// Compares one tokeniser with one golden token key on both sides of every record.
void check_tokens(const std::string& key, const std::function<Tokens(const std::string&)>& tok) {
  size_t compared = 0;
  for (const auto& file : psy::test::golden_files()) {
    for (const auto& rec : psy::test::golden_records(file)) {
      for (const char* side : {"hyp", "ref"}) {
        const std::string name = std::string(side) + "_" + key;
        if (!rec["tokens"].contains(name)) continue;
        INFO(file << " " << rec["id"].get<std::string>() << " " << name);
        CHECK(tok(rec[side].get<std::string>()) == strings(rec["tokens"][name]));
        ++compared;
      }
    }
  }
  if (!psy::test::shared_dir().empty()) CHECK(compared > 600);
}

}  // namespace

TEST_CASE("whitespace tokens equal Python's str.split() on every golden text", "[eval][tokens]") {
  check_tokens("ws", [](const std::string& t) { return split_whitespace(t); });
  CHECK(split_whitespace("a\u3000b\xc2\xa0" "c\x1f" "d") == Tokens{"a", "b", "c", "d"});
  CHECK(split_whitespace(" \n\t ").empty());
}

TEST_CASE("character tokens equal list(''.join(text.split()))", "[eval][tokens]") {
  check_tokens("char", [](const std::string& t) { return split_chars(t); });
  CHECK(split_chars("我 明白") == Tokens{"我", "明", "白"});
}

TEST_CASE("rouge_score's default tokenizer: lower-case, [a-z0-9] runs", "[eval][tokens]") {
  check_tokens("rouge", [](const std::string& t) { return rouge_tokenize(t); });
  CHECK(rouge_tokenize("Don’t STOP, cliché 85%") == Tokens{"don", "t", "stop", "clich", "85"});
  CHECK(rouge_tokenize("你好").empty());
}

TEST_CASE("rouge_score's tokenizer with the Porter stemmer", "[eval][tokens]") {
  check_tokens("rouge_stem", [](const std::string& t) { return rouge_tokenize_stemmed(t); });
}

TEST_CASE("13a tokens equal the lsy641/distinct module's", "[eval][tokens]") {
  check_tokens("13a", [](const std::string& t) { return tokenize_13a(t); });
  CHECK(tokenize_13a("Hi. I don't know, 3.5 or 2-3?") ==
        Tokens{"Hi", ".", "I", "don't", "know", ",", "3.5", "or", "2", "-", "3", "?"});
}

TEST_CASE("the jieba segmenter reproduces jieba.cut token for token", "[eval][tokens][jieba]") {
  const auto& seg = psy::test::shared_jieba();
  check_tokens("jieba", [&](const std::string& t) { return seg.cut(t); });
  check_tokens("jieba_ws", [&](const std::string& t) { return seg.cut_no_space(t); });
  CHECK(seg.cut("I’m ok") == Tokens{"I", "’", "m", " ", "ok"});
  CHECK(seg.cut("").empty());
  CHECK(seg.dict_md5() == "897a1f17ca8c08caa37a36f92e2da441");
}

TEST_CASE("a missing jieba folder is a clear error", "[eval][jieba]") {
  try {
    JiebaSegmenter::load("/nonexistent/jieba");
    FAIL("no error");
  } catch (const psy::Error& e) {
    CHECK(std::string(e.what()).find("/nonexistent/jieba/dict.txt") != std::string::npos);
    CHECK(std::string(e.what()).find("python3-jieba") != std::string::npos);
  }
}

TEST_CASE("md5 matches the RFC 1321 test vectors", "[eval]") {
  CHECK(md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(md5_hex(std::string(1000, 'a')) == "cabe45dcc9ae5b66ba86600cca6b8ba8");
}

TEST_CASE("rouge tokenizer: the two non-ASCII letters Python lower-cases to ASCII", "[eval][tokens]") {
  // U+212A KELVIN SIGN -> "k"; U+0130 -> "i" + combining dot (which then splits the word).
  CHECK(rouge_tokenize("\xE2\x84\xAA" "ey") == Tokens{"key"});
  CHECK(rouge_tokenize("a\xC4\xB0" "b") == Tokens{"ai", "b"});
}

TEST_CASE("13a tokenizer: entities, <skipped>, hyphenated line breaks", "[eval][tokens]") {
  CHECK(tokenize_13a("a &amp; b &lt;c&gt;") == Tokens{"a", "&", "b", "<", "c", ">"});
  CHECK(tokenize_13a("x<skipped>y") == Tokens{"xy"});
  CHECK(tokenize_13a("well-\nbeing") == Tokens{"wellbeing"});
  CHECK(tokenize_13a("3,000.50 and 1-2") == Tokens{"3,000.50", "and", "1", "-", "2"});
}
