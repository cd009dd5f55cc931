// psy's tokenizer.json back end on small fixtures written for these tests
// (tests/fixtures/text/*_tiny.json, trained with Hugging Face tokenizers 0.23 on the project's
// English sample; the expected ids below are what that library gives). No reference stack needed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/text/split_regex.h"
#include "libpsy/text/tokenizer.h"
#include "tests/test_support.h"
#include "tests/text/tiny_tokenizer.h"

using psy::Tokenizer;
using Ids = std::vector<int32_t>;

namespace {

std::string fixture(const std::string& name) { return psy::test::source_dir() + "/tests/fixtures/text/" + name; }

// The message of the psy::Error that loading `json` (as a tokenizer.json) throws; "" when it loads.
std::string load_error(const nlohmann::json& json) {
  try {
    Tokenizer::from_tokenizer_json_text(json.dump(), "bad/tokenizer.json");
  } catch (const psy::Error& e) {
    return e.what();
  }
  return "";
}

nlohmann::json fixture_json(const std::string& name) {
  return nlohmann::json::parse(psy::test::read_file(fixture(name)));
}

}  // namespace

TEST_CASE("byte-level BPE with a Llama-3 split regex gives tokenizers' ids", "[tokenizer_json]") {
  const Tokenizer t = Tokenizer::load(fixture("bytelevel_tiny.json"));
  CHECK(t.vocab_size() == 401);
  CHECK(t.encode_like_hf("I feel anxious, don't you?") == Ids{0, 43, 382, 347, 90, 75, 262, 85, 14, 278, 275, 314, 273, 33});
  CHECK(t.encode("I feel anxious, don't you?") == Ids{43, 382, 347, 90, 75, 262, 85, 14, 278, 275, 314, 273, 33});
  // HF mode splits special tokens out of the text; psy's encode() never does.
  CHECK(t.encode_like_hf("<|im_start|>user\nhi<|im_end|>") == Ids{0, 1, 87, 85, 284, 201, 74, 75, 2});
  CHECK(t.encode("<|im_start|>user\nhi<|im_end|>") ==
        Ids{30, 94, 348, 65, 292, 386, 94, 32, 87, 85, 284, 201, 74, 75, 30, 94, 348, 65, 71, 272, 94, 32});
  // A non-special added token is matched in both modes.
  CHECK(t.encode("call <tool> now") == Ids{69, 362, 223, 400, 299, 303});
  CHECK_FALSE(t.is_special(400));
  CHECK(t.encode("  12345 \n\n") == Ids{223, 223, 19, 20, 21, 22, 23, 223, 201, 201});
  CHECK(t.special_id("<|im_start|>") == 1);
  CHECK(t.special_id("user") == -1);
  CHECK(t.is_special(0));
  CHECK(t.id_to_piece(223) == "\xC4\xA0");  // "Ġ"
  CHECK_FALSE(t.adds_dummy_prefix());
  CHECK_FALSE(t.has_byte_fallback());
  for (std::string s : {"I feel anxious, don't you?", "emoji \xF0\x9F\x98\x80 and \xE5\xBF\x83\xE7\x90\x86", "\t\n  x  ", "<|im_end|>"})
    CHECK(t.decode(t.encode(s)) == s);
  // decode renders control tokens as their text, or leaves them out.
  CHECK(t.decode({1, 87, 85, 2}) == "<|im_start|>us<|im_end|>");
  CHECK(t.decode({1, 87, 85, 2}, false) == "us");
  CHECK_THROWS_AS(t.decode({401}), psy::Error);
}

TEST_CASE("BPE with byte fallback and Metaspace (the Mistral v0.3 form) gives tokenizers' ids", "[tokenizer_json]") {
  const Tokenizer t = Tokenizer::load(fixture("metaspace_tiny.json"));
  CHECK(t.encode_like_hf("I feel anxious") == Ids{1, 417, 444, 318, 328, 315, 300, 322, 310});
  CHECK(t.encode_like_hf(" two") == Ids{1, 318, 311, 314, 306});
  CHECK(t.encode_like_hf("[INST] hi [/INST]") == Ids{1, 500, 318, 479, 318, 501});
  CHECK(t.encode("[INST] hi [/INST]") ==
        Ids{318, 289, 279, 282, 285, 286, 290, 318, 479, 318, 289, 264, 279, 282, 285, 286, 290});
  // Characters outside the vocabulary fall back to <0xNN> byte pieces.
  const Ids cafe = t.encode("caf\xC3\xA9 \xE5\xBF\x83");
  CHECK(cafe == Ids{318, 294, 292, 297, 198, 172, 318, 232, 194, 134});
  CHECK(t.is_byte(198));
  CHECK(t.has_byte_fallback());
  CHECK(t.adds_dummy_prefix());
  CHECK(t.unk_id() == 0);
  // The dummy prefix only at a chunk start; decode drops it again.
  const Ids start = t.encode("feel", true), mid = t.encode("feel", false);
  CHECK(start.size() >= mid.size());
  CHECK(t.id_to_piece(start[0]).rfind("\xE2\x96\x81", 0) == 0);
  CHECK(t.id_to_piece(mid[0]).rfind("\xE2\x96\x81", 0) != 0);
  Ids joined = t.encode("I", true);
  for (int32_t id : t.encode(" feel", false)) joined.push_back(id);
  CHECK(t.decode(joined) == "I feel");
  CHECK(t.decode(cafe) == "caf\xC3\xA9 \xE5\xBF\x83");
  Ids with_bos{t.bos_id()};
  for (int32_t id : t.encode("I feel")) with_bos.push_back(id);
  CHECK(t.decode(with_bos) == "<s>I feel");
}

TEST_CASE("the legacy Prepend + Replace normalizer form gives tokenizers' ids", "[tokenizer_json]") {
  const Tokenizer t = Tokenizer::load(fixture("legacy_tiny.json"));
  CHECK(t.encode_like_hf("I feel anxious") == Ids{1, 417, 444, 318, 328, 315, 300, 322, 310});
  CHECK(t.encode_like_hf(" two") == Ids{1, 318, 318, 311, 314, 306});
  CHECK(t.encode_like_hf("[INST] hi [/INST]") == Ids{1, 500, 318, 318, 479, 318, 501});
  CHECK(t.encode(" two") == Ids{318, 318, 311, 314, 306});
  CHECK(t.decode(t.encode(" two")) == " two");
  CHECK(t.adds_dummy_prefix());
}

TEST_CASE("a model folder prefers tokenizer.json and takes special tokens from tokenizer_config.json", "[tokenizer_json]") {
  psy::test::TempDir dir;
  psy::test::write_file(dir.file("tokenizer.json"), psy::test::read_file(fixture("bytelevel_tiny.json")));
  psy::test::write_file(dir.file("tokenizer.model"), "not a SentencePiece model");
  psy::test::write_file(dir.file("tokenizer_config.json"),
                        R"({"bos_token": "<|bos|>", "eos_token": "<|im_end|>", "pad_token": null,
                            "additional_special_tokens": ["<tool>"]})");
  const Tokenizer t = Tokenizer::load(dir.path());
  CHECK(t.bos_id() == 0);
  CHECK(t.eos_id() == 2);
  CHECK(t.pad_id() == -1);
  CHECK(t.eos_text() == "<|im_end|>");
  // A token the config names special becomes a control token: no longer produced from text.
  CHECK(t.is_special(400));
  for (int32_t id : t.encode("call <tool> now")) CHECK_FALSE(t.is_special(id));
  psy::test::write_file(dir.file("tokenizer_config.json"), R"({"eos_token": "<|nope|>"})");
  CHECK_THROWS_WITH(Tokenizer::load(dir.path()), Catch::Contains("<|nope|>"));
}

TEST_CASE("unsupported tokenizer.json content fails at load with one line naming the file and key", "[tokenizer_json][errors]") {
  const nlohmann::json good = fixture_json("bytelevel_tiny.json");
  struct Case {
    const char* what;
    std::function<void(nlohmann::json&)> edit;
    const char* key;
    const char* mentions;
  };
  const std::vector<Case> cases = {
      {"model type", [](nlohmann::json& j) { j["model"]["type"] = "WordPiece"; }, "model.type", "BPE"},
      {"pre-tokenizer", [](nlohmann::json& j) { j["pre_tokenizer"]["pretokenizers"][0]["type"] = "Whitespace"; },
       "pre_tokenizer.pretokenizers[0].type", "Split, ByteLevel, Metaspace"},
      {"normalizer", [](nlohmann::json& j) { j["normalizer"] = {{"type", "BertNormalizer"}}; }, "normalizer.type", "NFC"},
      {"decoder", [](nlohmann::json& j) { j["decoder"] = {{"type", "WordPiece"}}; }, "decoder.type", "ByteLevel"},
      {"post-processor", [](nlohmann::json& j) { j["post_processor"] = {{"type", "Nope"}}; }, "post_processor.type", "TemplateProcessing"},
      {"regex", [](nlohmann::json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(?<=a)b"; },
       "pre_tokenizer.pretokenizers[0].pattern", "lookbehind"},
      {"dropout", [](nlohmann::json& j) { j["model"]["dropout"] = 0.1; }, "model.dropout", "null"},
      {"truncation", [](nlohmann::json& j) { j["truncation"] = {{"max_length", 8}}; }, "truncation", "null"},
      {"single_word", [](nlohmann::json& j) { j["added_tokens"][0]["single_word"] = true; }, "added_tokens[0].single_word", "false"},
      {"unknown key", [](nlohmann::json& j) { j["model"]["frobnicate"] = 1; }, "model.frobnicate", "vocab"},
      {"merge", [](nlohmann::json& j) { j["model"]["merges"][0] = nlohmann::json::array({"zzzq", "x"}); }, "model.merges[0]", "vocabulary"},
      {"ByteLevel not last", [](nlohmann::json& j) {
         j["pre_tokenizer"]["pretokenizers"].push_back({{"type", "Digits"}, {"individual_digits", true}});
       }, "pre_tokenizer.pretokenizers[2]", "last"},
  };
  CHECK(load_error(good).empty());
  for (const auto& c : cases) {
    nlohmann::json j = good;
    c.edit(j);
    const std::string msg = load_error(j);
    INFO(c.what << ": " << msg);
    CHECK(msg.find("bad/tokenizer.json") == 0);
    CHECK(msg.find(std::string("'") + c.key + "'") != std::string::npos);
    CHECK(msg.find(c.mentions) != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
  CHECK_THROWS_WITH(Tokenizer::from_tokenizer_json_text("{", "bad/tokenizer.json"), Catch::Contains("bad/tokenizer.json"));
}

TEST_CASE("split regexes follow Oniguruma's leftmost-first backtracking", "[tokenizer_json][regex]") {
  auto pieces = [](const std::string& pattern, const std::string& text) {
    std::vector<std::string> out;
    for (const auto& [b, e] : psy::SplitRegex(pattern).find_all(text)) out.push_back(text.substr(b, e - b));
    return out;
  };
  const std::string gpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
  using V = std::vector<std::string>;
  CHECK(pieces(gpt2, "Hello  world's 123!!") == V{"Hello", " ", " world", "'s", " 123", "!!"});
  CHECK(pieces(gpt2, "a   \n") == V{"a", "   \n"});
  const std::string llama3 =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  CHECK(pieces(llama3, "I'M 12345 ok.\n\n  x") == V{"I", "'M", " ", "123", "45", " ok", ".\n\n", " ", " x"});
  CHECK(pieces("a{2,3}?", "aaaa") == V{"aa", "aa"});
  CHECK(pieces("(?:ab)?c", "abcc") == V{"abc", "c"});
  CHECK_THROWS_AS(psy::SplitRegex("(a)\\1"), psy::Error);
  CHECK_THROWS_AS(psy::SplitRegex("(ab)+"), psy::Error);
  CHECK_THROWS_AS(psy::SplitRegex("[a-"), psy::Error);
}

TEST_CASE("psy tokenize prints tokenizer(text)[\"input_ids\"] and pieces, or psy's safe ids", "[tokenizer_json][cli]") {
  const std::string model = psy::test::shell_quote(fixture("bytelevel_tiny.json"));
  auto r = psy::test::run_psy("tokenize --model " + model + " --text '<|im_start|>user\nhi<|im_end|>' --json");
  REQUIRE(r.exit_code == 0);
  const auto row = nlohmann::json::parse(r.out);
  CHECK(row["ids"].get<Ids>() == Ids{0, 1, 87, 85, 284, 201, 74, 75, 2});
  CHECK(row["pieces"][0] == "<|bos|>");
  CHECK(row["pieces"][1] == "<|im_start|>");
  r = psy::test::run_psy("tokenize --model " + model + " --text 'call <tool> now' --mode safe");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.rfind("69 362 223 400 299 303\n", 0) == 0);
  psy::test::TempDir tmp;
  psy::test::write_file(tmp.file("in.jsonl"), "{\"text\": \"a\"}\n\n{\"text\": \"b\"}\n");
  r = psy::test::run_psy("tokenize --model " + model + " --input " + psy::test::shell_quote(tmp.file("in.jsonl")) + " --json");
  REQUIRE(r.exit_code == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 2);
  psy::test::write_file(tmp.file("bad.jsonl"), "{\"text\": \"a\"}\n{\"txt\": 1}\n");
  r = psy::test::run_psy("tokenize --model " + model + " --input " + psy::test::shell_quote(tmp.file("bad.jsonl")));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("bad.jsonl:2") != std::string::npos);
  nlohmann::json broken = fixture_json("bytelevel_tiny.json");
  broken["pre_tokenizer"]["pretokenizers"][0]["type"] = "Whitespace";
  psy::test::write_file(tmp.file("tokenizer.json"), broken.dump());
  r = psy::test::run_psy("tokenize --model " + psy::test::shell_quote(tmp.path()) + " --text x");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("pre_tokenizer.pretokenizers[0].type") != std::string::npos);
}

TEST_CASE("SentencePiece models: encode_like_hf splits special pieces out and adds BOS", "[tokenizer_json]") {
  const Tokenizer& t = psy::test::tiny_tokenizer();
  const int32_t im_start = t.special_id("<|im_start|>");
  const Ids ids = t.encode_like_hf("<|im_start|>hello");
  REQUIRE(ids.size() >= 3);
  CHECK(ids[0] == t.bos_id());
  CHECK(ids[1] == im_start);
  Ids rest(ids.begin() + 2, ids.end());
  CHECK(rest == t.encode("hello", true));
  CHECK(t.encode_like_hf("hello", false) == t.encode("hello", true));
}
