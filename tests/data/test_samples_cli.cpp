// psy data build / psy data tokens / psy tokenizer train, run as a user would.
#include <catch2/catch.hpp>

#include "libpsy/core/text_file.h"
#include "tests/test_support.h"
#include "tests/text/tiny_tokenizer.h"

using psy::test::run_psy;

namespace {

std::string write_recipe(const psy::test::TempDir& dir, const std::string& extra_data = "") {
  std::string recipe = "name: cli-test\nseed: 66\n"
                       "model: {tokenizer: " + psy::test::tiny_tokenizer_dir() + ", chat_template: mistral}\n"
                       "data: {path: [" + psy::test::sample_en_path() + "], lang: en, task: observation_reasoning_dialog, "
                       "unit: turn, test_fraction: 0.2, max_seq_len: 2048, prompt_loss_weight: 0.0" + extra_data + "}\n";
  std::string path = dir.file("recipe.yaml");
  psy::test::write_file(path, recipe);
  return path;
}

}  // namespace

TEST_CASE("psy tokenizer train writes a loadable, deterministic model", "[cli][tokenizer]") {
  psy::test::TempDir dir;
  auto a = run_psy("tokenizer train --input " + psy::test::sample_en_path() + " --vocab-size 400 --out " + dir.file("a"));
  REQUIRE(a.exit_code == 0);
  CHECK(psy::path_exists(dir.file("a/tokenizer.model")));
  CHECK(psy::path_exists(dir.file("a/tokenizer_config.json")));
  auto b = run_psy("tokenizer train --input " + psy::test::sample_en_path() + " --vocab-size 400 --out " + dir.file("b"));
  REQUIRE(b.exit_code == 0);
  CHECK(psy::test::read_file(dir.file("a/tokenizer.model")) == psy::test::read_file(dir.file("b/tokenizer.model")));
  CHECK(run_psy("tokenizer train --input " + dir.file("missing.json") + " --out " + dir.file("c")).exit_code == 2);
  CHECK(run_psy("tokenizer train --input " + psy::test::sample_en_path() + " --vocab-size 3 --out " + dir.file("c")).exit_code == 2);
  CHECK(run_psy("tokenizer train --input " + psy::test::sample_en_path()).exit_code == 2);  // no --out
}

TEST_CASE("psy data build shows, exports and is byte-identical across runs", "[cli][build]") {
  psy::test::TempDir dir;
  const std::string recipe = write_recipe(dir);
  auto show = run_psy("data build " + recipe + " --show 1 --no-color");
  REQUIRE(show.exit_code == 0);
  CHECK(show.out.find("[[Observation: ") != std::string::npos);
  CHECK(show.out.find("</s>]]") != std::string::npos);

  for (const char* format : {"psy", "messages", "openai"}) {
    auto a = run_psy("data build " + recipe + " --export " + dir.file("a.jsonl") + " --format " + format);
    auto b = run_psy("data build " + recipe + " --export " + dir.file("b.jsonl") + " --format " + format);
    REQUIRE(a.exit_code == 0);
    REQUIRE(b.exit_code == 0);
    CHECK(psy::test::read_file(dir.file("a.jsonl")) == psy::test::read_file(dir.file("b.jsonl")));
    CHECK(!psy::test::read_file(dir.file("a.jsonl")).empty());
  }
  // Overrides change what is built.
  auto d = run_psy("data build " + recipe + " data.task=dialog --export " + dir.file("d.jsonl"));
  REQUIRE(d.exit_code == 0);
  CHECK(psy::test::read_file(dir.file("d.jsonl")).find("\"task\":\"dialog\"") != std::string::npos);

  auto tokens = run_psy("data tokens " + recipe);
  REQUIRE(tokens.exit_code == 0);
  CHECK(tokens.out.find("turn") != std::string::npos);
  CHECK(tokens.out.find("session") != std::string::npos);
  CHECK(run_psy("data stats --tokens " + recipe).exit_code == 0);
}

TEST_CASE("psy data build rejects bad recipes, paths and options with exit code 2", "[cli][build]") {
  psy::test::TempDir dir;
  const std::string recipe = write_recipe(dir);
  CHECK(run_psy("data build " + dir.file("nope.yaml")).exit_code == 2);
  CHECK(run_psy("data build " + recipe + " data.task=chitchat").exit_code == 2);
  CHECK(run_psy("data build " + recipe + " model.chat_template=vicuna").exit_code == 2);
  CHECK(run_psy("data build " + recipe + " model.tokenizer=" + dir.file("none")).exit_code == 2);
  CHECK(run_psy("data build " + recipe + " data.path=[" + dir.file("none.json") + "]").exit_code == 2);
  CHECK(run_psy("data build " + recipe + " --format csv").exit_code == 2);
  CHECK(run_psy("data build " + recipe + " --split dev").exit_code == 2);
  CHECK(run_psy("data build " + recipe + " --frobnicate").exit_code == 2);
  auto bad = run_psy("data build " + write_recipe(dir, ", markers: {conclusion: 'C:'}"));
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("data.markers") != std::string::npos);
}
