// psy's tokenizer.json back end against Hugging Face `tokenizers` itself (the live reference stack,
// scripts/setup-reference.sh): ids for every Psy-Insight turn text and an adversarial set (with a
// code-point sweep), for every tokenizer folder present and for small fixture pipelines. Skips with a message when .reference or ../shared is absent.
#include <catch2/catch.hpp>

#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "libpsy/text/tokenizer.h"
#include "libpsy/text/unicode_props.h"
#include "tests/test_support.h"
#include "tests/text/tokenizer_json_texts.h"

using psy::Tokenizer;

namespace {

std::string show(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size() && i < 40; ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + (ids.size() > 40 ? ",...]" : "]");
}

// `relative`: a reference folder ("models/...") or a fixture tokenizer.json ("tests/fixtures/...").
void compare_folder(const std::string& relative, const std::vector<std::string>& texts, const std::string& texts_file) {
  const bool fixture = relative.rfind("tests/", 0) == 0;
  const std::string dir = fixture ? psy::test::source_dir() + "/" + relative : psy::test::reference_path(relative);
  if (dir.empty()) return;
  const std::string json = fixture ? dir : dir + "/tokenizer.json";
  const Tokenizer tok = Tokenizer::load(dir);
  const auto run = psy::test::run_reference_python(
      "tests/reference/hf_tokenize.py", psy::test::shell_quote(json) + " " + psy::test::shell_quote(texts_file));
  if (run.exit_code != 0) {
    if (psy::test::reference_python().empty()) return;
    FAIL("hf_tokenize.py failed: " << run.err);
  }
  std::istringstream lines(run.out);
  std::string line;
  size_t i = 0, promise_bad = 0, hf_bad = 0, safe_bad = 0, decode_bad = 0, roundtrip = 0, specials_in_text = 0;
  while (std::getline(lines, line)) {
    REQUIRE(i < texts.size());
    const auto row = nlohmann::json::parse(line);
    const auto hf = row["hf"].get<std::vector<int32_t>>();
    const auto safe = row["safe"].get<std::vector<int32_t>>();
    const std::string& text = texts[i];
    const auto mine_hf = tok.encode_like_hf(text);
    const auto mine_safe = tok.encode(text);
    if (mine_hf != hf) {
      if (++hf_bad <= 3) UNSCOPED_INFO(relative << " HF mode, text " << i << " " << nlohmann::json(text).dump() << ": psy " << show(mine_hf) << " HF " << show(hf));
    }
    if (mine_safe != safe) {
      if (++safe_bad <= 3) UNSCOPED_INFO(relative << " safe mode, text " << i << " " << nlohmann::json(text).dump() << ": psy " << show(mine_safe) << " HF " << show(safe));
    }
    for (int32_t id : mine_safe) specials_in_text += tok.is_special(id) ? 1 : 0;
    // psy's decode of the safe ids (no control tokens among them) is the decoder's text.
    const std::string decoded = tok.decode(safe);
    if (decoded != row["decoded"].get<std::string>()) {
      if (++decode_bad <= 3) UNSCOPED_INFO(relative << " decode, text " << i << ": psy " << nlohmann::json(decoded).dump() << " HF " << row["decoded"].dump());
    }
    if (decoded == text) ++roundtrip;
    // decode(encode(x)) == x where the tokenizer promises it (tokenizer.h): NFC text for NFC
    // models; for dummy-prefix models, text not beginning with a space and without "▁".
    const bool promised = psy::unicode::normalize(text, psy::unicode::NormalForm::NFC) == text &&
                          !(tok.adds_dummy_prefix() && (text[0] == ' ' || text.find("\xE2\x96\x81") != std::string::npos));
    if (promised && !fixture && decoded != text) {
      if (++promise_bad <= 3) UNSCOPED_INFO(relative << " round trip, text " << i << ": " << nlohmann::json(decoded).dump());
    }
    ++i;
  }
  std::cout << "tokenizer.json live: " << relative << ": " << i << " texts, HF-mode ids identical on " << i - hf_bad
            << ", safe-mode ids identical on " << i - safe_bad << ", decode identical on " << i - decode_bad
            << ", decode(encode(x)) == x on " << roundtrip << "\n";
  CHECK(i == texts.size());
  CHECK(hf_bad == 0);
  CHECK(safe_bad == 0);
  CHECK(decode_bad == 0);
  CHECK(specials_in_text == 0);
  CHECK(promise_bad == 0);
}

}  // namespace

TEST_CASE("tokenizer.json ids equal Hugging Face tokenizers on Psy-Insight and adversarial texts", "[tokenizer_json][live]") {
  if (psy::test::reference_python().empty()) return;
  // Built once for all sections (Catch2 re-enters the test case for each one).
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> t = psy::test::adversarial_texts();
    const auto turns = psy::test::psy_insight_turn_texts();
    t.insert(t.end(), turns.begin(), turns.end());
    return t;
  }();
  static psy::test::TempDir tmp;
  auto write_texts = [](const std::vector<std::string>& ts, const std::string& name) {
    std::string jsonl;
    for (const auto& t : ts) jsonl += nlohmann::json{{"text", t}}.dump() + "\n";
    psy::test::write_file(tmp.file(name), jsonl);
    return tmp.file(name);
  };
  static const std::string texts_file = write_texts(texts, "texts.jsonl");
  static const std::string adversarial_file = write_texts(psy::test::adversarial_texts(), "adversarial.jsonl");
  for (const char* folder : {"models/smollm2-135m-instruct", "models/tokenizers/llama3", "models/tokenizers/qwen2.5",
                             "models/tokenizers/qwen3", "models/tokenizers/mistral-v0.3", "models/tokenizers/glm4"}) {
    SECTION(folder) { compare_folder(folder, texts, texts_file); }
  }
  // Small pipelines written for psy's tests (adversarial texts only): NFKC, Lowercase, regex
  // Replace, Strip, every Split behaviour and invert, Digits, ByteLevel add_prefix_space +
  // use_regex, RobertaProcessing, lstrip/rstrip added tokens, Metaspace "always" + split.
  for (const char* fixture : {"tests/fixtures/text/pipeline_bytelevel_gpt2_digits.json",
                              "tests/fixtures/text/pipeline_metaspace_fallback.json",
                              "tests/fixtures/text/pipeline_legacy_prepend.json",
                              "tests/fixtures/text/pipeline_split_behaviours.json"}) {
    SECTION(fixture) { compare_folder(fixture, psy::test::adversarial_texts(), adversarial_file); }
  }
}
