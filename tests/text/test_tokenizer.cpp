#include <catch2/catch.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"
#include "libpsy/text/tokenizer.h"
#include "libpsy/text/tokenizer_train.h"
#include "tests/test_support.h"
#include "tests/text/tiny_tokenizer.h"

using psy::Tokenizer;
using psy::test::tiny_tokenizer;

TEST_CASE("tiny tokenizer: special ids, byte fallback and vocabulary", "[tokenizer]") {
  const Tokenizer& t = tiny_tokenizer();
  CHECK(t.vocab_size() == 512);
  CHECK(t.unk_id() == 0);
  CHECK(t.bos_id() == 1);
  CHECK(t.eos_id() == 2);
  CHECK(t.pad_id() == 3);
  CHECK(t.bos_text() == "<s>");
  CHECK(t.eos_text() == "</s>");
  CHECK(t.has_byte_fallback());
  CHECK(t.adds_dummy_prefix());
  CHECK(t.special_id("<|im_start|>") >= 0);
  CHECK(t.special_id("<|im_end|>") >= 0);
  CHECK(t.is_special(t.special_id("<|im_start|>")));
  CHECK(t.special_id("the") == -1);
  CHECK(t.piece_to_id("<0x41>") >= 0);
  CHECK(t.is_byte(t.piece_to_id("<0x41>")));
}

TEST_CASE("encode/decode round-trips English, Chinese, emoji and whitespace", "[tokenizer]") {
  const Tokenizer& t = tiny_tokenizer();
  for (std::string s : {"I feel anxious when I walk down the street.", "我最近总是睡不着，心里很烦。",
                        "tabs\tand  two spaces\nand a newline", " leading space", "emoji 😀 and ünïcödé", "x"}) {
    auto ids = t.encode(s);
    CHECK(t.decode(ids) == s);
    for (int32_t id : ids) CHECK(id != t.unk_id());
    // Mid-chunk encoding (no dummy prefix) round-trips after a chunk start.
    auto joined = t.encode("A", true);
    auto rest = t.encode(s, false);
    joined.insert(joined.end(), rest.begin(), rest.end());
    CHECK(t.decode(joined) == "A" + s);
  }
  // The dummy prefix: at a chunk start the first piece carries the space symbol.
  auto ids = t.encode("hello", true);
  CHECK(t.id_to_piece(ids[0]).rfind("\xE2\x96\x81", 0) == 0);
  auto mid = t.encode("hello", false);
  CHECK(t.id_to_piece(mid[0]).rfind("\xE2\x96\x81", 0) != 0);
}

TEST_CASE("control tokens are never produced from text", "[tokenizer][injection]") {
  const Tokenizer& t = tiny_tokenizer();
  for (std::string s : {"</s>", "<s>", "<|im_start|>", "<|im_end|>", "[INST] hi [/INST]", "<pad><unk>"}) {
    auto ids = t.encode(s);
    for (int32_t id : ids) {
      CHECK_FALSE(t.is_special(id));
      CHECK(id != t.unk_id());
    }
    CHECK(t.decode(ids) == s);
  }
}

TEST_CASE("decode renders control tokens and restores chunk starts", "[tokenizer]") {
  const Tokenizer& t = tiny_tokenizer();
  std::vector<int32_t> ids = {t.bos_id()};
  auto a = t.encode("Hello there", true);
  ids.insert(ids.end(), a.begin(), a.end());
  ids.push_back(t.eos_id());
  auto b = t.encode("again", true);
  ids.insert(ids.end(), b.begin(), b.end());
  CHECK(t.decode(ids) == "<s>Hello there</s>again");
  CHECK(t.decode(ids, false) == "Hello thereagain");
  CHECK_THROWS_AS(t.decode({100000}), psy::Error);
}

TEST_CASE("tokenizer_config.json names special tokens; bad configs are errors", "[tokenizer]") {
  psy::test::TempDir dir;
  std::string model = psy::read_text_file(psy::test::tiny_tokenizer_dir() + "/tokenizer.model");
  psy::test::write_file(dir.file("tokenizer.model"), model);
  // PAD named as </s> (a common Llama setup); an added token beyond the vocabulary.
  psy::test::write_file(dir.file("tokenizer_config.json"),
                        R"({"bos_token": {"content": "<s>"}, "eos_token": "</s>", "pad_token": "</s>",
                            "added_tokens_decoder": {"512": {"content": "<tool>", "special": true}}})");
  Tokenizer t = Tokenizer::load(dir.path());
  CHECK(t.pad_id() == 2);
  CHECK(t.vocab_size() == 513);
  CHECK(t.special_id("<tool>") == 512);
  CHECK(t.decode({1, 512, 2}) == "<s><tool></s>");
  // Typed text never becomes the added token.
  for (int32_t id : t.encode("<tool>")) CHECK(id < 512);

  psy::test::write_file(dir.file("tokenizer_config.json"), R"({"eos_token": "<nope>"})");
  CHECK_THROWS_AS(Tokenizer::load(dir.path()), psy::Error);
  psy::test::write_file(dir.file("tokenizer_config.json"), "{not json");
  CHECK_THROWS_AS(Tokenizer::load(dir.path()), psy::Error);
}

TEST_CASE("loading a missing or broken model is a clear error", "[tokenizer]") {
  psy::test::TempDir dir;
  try {
    Tokenizer::load(dir.path());
    FAIL("expected an error");
  } catch (const psy::Error& e) {
    CHECK(std::string(e.what()).find("tokenizer.model") != std::string::npos);
    CHECK(e.exit_code() == 2);
  }
  psy::test::write_file(dir.file("tokenizer.model"), "definitely not a protobuf");
  CHECK_THROWS_AS(Tokenizer::load(dir.path()), psy::Error);
}

TEST_CASE("training is deterministic and reads JSON sessions or plain text", "[tokenizer][train]") {
  psy::TokenizerTrainOptions o;
  o.inputs = {psy::test::sample_en_path()};
  o.vocab_size = 400;
  auto a = psy::train_tokenizer(o);
  auto b = psy::train_tokenizer(o);
  CHECK(a.model_bytes == b.model_bytes);
  CHECK(a.sentences > 100);

  psy::test::TempDir dir;
  psy::test::write_file(dir.file("plain.txt"), "one line of text\n\nanother line of text\nthe end\n");
  auto s = psy::training_sentences(dir.file("plain.txt"));
  REQUIRE(s.size() == 3);
  CHECK(s[1] == "another line of text");
  auto j = psy::training_sentences(psy::test::sample_en_path());
  CHECK(j.size() > 200);

  o.vocab_size = 5;
  CHECK_THROWS_AS(psy::train_tokenizer(o), psy::Error);
  o.vocab_size = 400;
  o.inputs = {dir.file("missing.json")};
  CHECK_THROWS_AS(psy::train_tokenizer(o), psy::Error);
}

#include "libpsy/data/load_sessions.h"
#include "libpsy/text/segment_encoder.h"

TEST_CASE("word-by-word encoding equals SentencePiece's whole-text encoding", "[tokenizer][segments]") {
  const Tokenizer& t = tiny_tokenizer();
  REQUIRE(t.splits_at_words());
  psy::SegmentEncoder enc(t);
  std::vector<std::string> texts = {"a  b", "   leading", "trailing  ", "x", " ", "two\nlines here", "tab\there"};
  for (const auto& path : {psy::test::sample_en_path(), psy::test::sample_zh_path()})
    for (const auto& s : psy::load_sessions(path).sessions)
      for (const auto& turn : s.turns) texts.push_back(turn.content);
  size_t mismatches = 0;
  for (const auto& text : texts)
    for (bool start : {true, false}) mismatches += enc.encode_text(text, start) != t.encode(text, start);
  CHECK(mismatches == 0);
}
