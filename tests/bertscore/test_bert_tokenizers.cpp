// BERTScore tokenisers: GPT-2 byte-level BPE and BERT WordPiece, called as bert_score's sent_encode.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "eval/bertscore/byte_level_bpe.h"
#include "eval/bertscore/sentence_tokenizer.h"
#include "eval/bertscore/unicode_classes.h"
#include "eval/bertscore/wordpiece.h"
#include "libpsy/core/utf8.h"
#include "tests/test_support.h"

#include <unicode/uchar.h>

using namespace psy::eval;

namespace {

std::vector<std::string> utf8_pieces(const std::vector<std::u32string>& words) {
  std::vector<std::string> out;
  for (const auto& w : words) out.push_back(psy::encode_utf8(std::vector<char32_t>(w.begin(), w.end())));
  return out;
}

std::string fixture(const std::string& name) { return psy::test::source_dir() + "/tests/fixtures/bertscore/" + name; }

}  // namespace

TEST_CASE("GPT-2 pre-tokenisation follows the regex module's semantics", "[bertscore][tokenizer]") {
  using V = std::vector<std::string>;
  CHECK(gpt2_pre_tokenize(" Hello world") == V{" Hello", " world"});
  // Contractions are case-sensitive and only lower-case.
  CHECK(gpt2_pre_tokenize(" I'm sure you'll see") == V{" I", "'m", " sure", " you", "'ll", " see"});
  CHECK(gpt2_pre_tokenize(" I'M") == V{" I", "'", "M"});
  // Digits and punctuation runs, optional leading U+0020 only.
  CHECK(gpt2_pre_tokenize(" 50% of 3/4!!") == V{" 50", "%", " of", " 3", "/", "4", "!!"});
  // Whitespace runs leave their last space to the next word; a trailing run stays whole.
  CHECK(gpt2_pre_tokenize(" a   b\n\nc  ") == V{" a", "  ", " b", "\n", "\n", "c", "  "});
  CHECK(gpt2_pre_tokenize(" a\nb") == V{" a", "\n", "b"});
  // U+FEFF is not \s: a space before it is kept with it.
  CHECK(gpt2_pre_tokenize(" \xEF\xBB\xBFHow") == V{" \xEF\xBB\xBF", "How"});
  // NBSP is \s but not the optional U+0020.
  CHECK(gpt2_pre_tokenize(" a\xC2\xA0" "b") == V{" a", "\xC2\xA0", "b"});
}

TEST_CASE("GPT-2 byte symbols map every byte to one printable code point", "[bertscore][tokenizer]") {
  const auto& s = gpt2_byte_symbols();
  REQUIRE(s.size() == 256);
  CHECK(s[' '] == "\xC4\xA0");   // U+0120 'Ġ'
  CHECK(s['\n'] == "\xC4\x8A");  // U+010A 'Ċ'
  CHECK(s['A'] == "A");
  CHECK(s[0xAD] == "\xC5\x83");  // U+0143, the last remapped byte
}

TEST_CASE("Python str.strip and BERT character classes", "[bertscore][tokenizer]") {
  CHECK(unicode::python_strip("\xE3\x80\x80 \t hi \xC2\xA0\n") == "hi");
  CHECK(unicode::python_strip("\xEF\xBB\xBFhi") == "\xEF\xBB\xBFhi");        // U+FEFF is not a space
  CHECK(unicode::python_strip("\xE2\x80\x8B") == "\xE2\x80\x8B");            // nor is U+200B
  CHECK(unicode::python_strip("\x1C" "a\x1F") == "a");                         // but U+001C..U+001F are
  CHECK(unicode::is_bert_punctuation(U'$'));
  CHECK(unicode::is_bert_punctuation(U'\u3002'));
  CHECK_FALSE(unicode::is_bert_punctuation(U'\u4E00'));
  CHECK(unicode::is_cjk_ideograph(U'\u4E00'));
  CHECK(unicode::is_bert_control(U'\u200B'));
}

TEST_CASE("BERT basic tokenisation", "[bertscore][tokenizer]") {
  BasicTokenizerOptions cased;
  cased.do_lower_case = false;
  using V = std::vector<std::string>;
  CHECK(utf8_pieces(bert_basic_tokenize("Hello, \xE4\xBD\xA0\xE5\xA5\xBD!", cased)) ==
        V{"Hello", ",", "\xE4\xBD\xA0", "\xE5\xA5\xBD", "!"});
  // e + combining acute is NFC-composed; nothing is lower-cased or stripped.
  CHECK(utf8_pieces(bert_basic_tokenize("Cafe\xCC\x81", cased)) == V{"Caf\xC3\xA9"});
  BasicTokenizerOptions uncased;
  CHECK(utf8_pieces(bert_basic_tokenize("Caf\xC3\xA9 D\xC3\xBCR", uncased)) == V{"cafe", "dur"});
  CHECK(bert_basic_tokenize("\xE2\x80\x8B", cased).empty());
}

TEST_CASE("WordPiece and BPE on hand-written vocabularies", "[bertscore][tokenizer]") {
  WordPieceTokenizer wp(fixture("wordpiece_vocab.txt"), BasicTokenizerOptions{});
  using V = std::vector<std::string>;
  CHECK(wp.tokenize("Unaffable running!") == V{"un", "##aff", "##able", "run", "##ning", "!"});
  CHECK(wp.tokenize("xyz") == V{"[UNK]"});
  CHECK(wp.tokenize(std::string(101, 'a')) == V{"[UNK]"});
  CHECK(wp.tokenize(std::string(100, 'a')).size() == 100);

  ByteLevelBpe bpe(fixture("bpe_vocab.json"), fixture("bpe_merges.txt"), "<unk>");
  CHECK(bpe.tokenize(" lower newest") == V{"\xC4\xA0low", "er", "\xC4\xA0", "n", "e", "w", "est"});
  CHECK(bpe.encode(" lower") == std::vector<int64_t>{9, 10});
}

TEST_CASE("sent_encode reproduces bert_score's ids on the golden pairs", "[bertscore][tokenizer][golden]") {
  const std::string dir = psy::test::shared_path("golden/bertscore");
  if (dir.empty()) return;
  std::map<std::string, SentenceTokenizer> tokenizers;
  tokenizers.emplace("en", SentenceTokenizer::load(dir + "/models/roberta-tiny", 64));
  tokenizers.emplace("zh", SentenceTokenizer::load(dir + "/models/bert-tiny-chinese", 128));
  CHECK(tokenizers.at("en").model_max_length() == 64);
  CHECK(tokenizers.at("zh").model_max_length() == 128);

  std::ifstream in(dir + "/pairs.jsonl");
  std::string line;
  int sides = 0, ids_equal = 0, tokens_equal = 0;
  while (std::getline(in, line)) {
    const auto pair = nlohmann::json::parse(line);
    const auto& tok = tokenizers.at(pair["group"].get<std::string>());
    for (const std::string side : {"hyp", "ref"}) {
      INFO(pair["id"].get<std::string>() << " " << side);
      const auto enc = tok.sent_encode(pair[side].get<std::string>());
      const auto expected = pair[side + "_ids"].get<std::vector<int64_t>>();
      CHECK(enc.ids == expected);
      CHECK(enc.truncated == pair[side + "_truncated"].get<bool>());
      ++sides;
      ids_equal += enc.ids == expected;
      if (!enc.truncated) {
        auto expected_tokens = pair[side + "_tokens"].get<std::vector<std::string>>();
        expected_tokens.erase(expected_tokens.begin());
        expected_tokens.pop_back();
        const auto tokens = tok.tokenize(pair[side].get<std::string>());
        CHECK(tokens == expected_tokens);
        tokens_equal += tokens == expected_tokens;
      }
    }
  }
  CHECK(sides == 2 * (70 + 48));
  WARN("golden token ids equal on " << ids_equal << " of " << sides << " texts; tokens on " << tokens_equal);
}

TEST_CASE("psy::is_python_space equals Python's definition (category Zs or bidi class WS, B, S) on every code point") {
  int spaces = 0, mismatches = 0;
  for (UChar32 c = 0; c <= 0x10FFFF; ++c) {
    const bool zs = u_charType(c) == U_SPACE_SEPARATOR;
    const UCharDirection d = u_charDirection(c);
    const bool python = zs || d == U_WHITE_SPACE_NEUTRAL || d == U_BLOCK_SEPARATOR || d == U_SEGMENT_SEPARATOR;
    if (python) ++spaces;
    if (python != psy::is_python_space(static_cast<char32_t>(c))) ++mismatches;
  }
  CHECK(spaces == 29);
  CHECK(mismatches == 0);
}
