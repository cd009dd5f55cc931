#include <catch2/catch.hpp>

#include <dirent.h>

#include "libpsy/core/error.h"
#include "libpsy/recipe/recipe.h"
#include "tests/test_support.h"

namespace {
std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    psy::parse_recipe(yaml, "r.yaml", overrides);
  } catch (const psy::Error& e) {
    CHECK(e.exit_code() == 2);
    return e.what();
  }
  FAIL("expected an error");
  return "";
}
}  // namespace

TEST_CASE("a recipe fills defaults and reads every section", "[recipe]") {
  auto r = psy::parse_recipe(R"(
name: exp1
seed: 3
model: {path: models/m, dtype: bf16, chat_template: mistral}
lora: {r: 256, alpha: 128, dropout: 0.05, targets: [q_proj, lm_head]}
data: {path: d.json, task: dialog, prompt_loss_weight: 0.1}
train: {epochs: 5, micro_batch: 2, grad_accum: 2, lr: 5.0e-5, warmup_ratio: 0.03, max_grad_norm: 0.3}
devices: {use: [cuda:0, cuda:1], parallel: layers}
eval: {max_new_tokens: 256, metrics: [bleu1, meteor]}
output: runs/${name}
)",
                             "r.yaml");
  CHECK(r.name == "exp1");
  CHECK(r.output == "runs/exp1");
  CHECK(r.model.dtype == psy::WeightDtype::Bf16);
  CHECK(r.lora.r == 256);
  CHECK(r.lora.targets == std::vector<std::string>{"q_proj", "lm_head"});
  CHECK(r.data.path == std::vector<std::string>{"d.json"});
  CHECK(r.data.task == "dialog");
  CHECK(r.data.test_fraction == Approx(0.15));
  CHECK(r.train.lr == Approx(5e-5));
  CHECK(r.devices.use.size() == 2);
  CHECK(r.devices.use[1].str() == "cuda:1");
  CHECK(r.devices.parallel == psy::ParallelMode::Layers);
  CHECK(r.eval.protocol == "psy-insight");
}

TEST_CASE("unknown keys list the valid ones; wrong types name the key path", "[recipe]") {
  auto m = error_of("train:\n  lrr: 1\n");
  CHECK_THAT(m, Catch::StartsWith("r.yaml:2:"));
  CHECK_THAT(m, Catch::Contains("unknown key 'train.lrr'") && Catch::Contains("lr, schedule"));
  m = error_of("modle: {}\n");
  CHECK_THAT(m, Catch::Contains("unknown key 'modle'") && Catch::Contains("model"));
  m = error_of("train:\n  lr: fast\n");
  CHECK_THAT(m, Catch::Contains("field 'train.lr': expected number, found 'fast'"));
  m = error_of("data: {task: poems}\n");
  CHECK_THAT(m, Catch::Contains("data.task") && Catch::Contains("one of dialog"));
  m = error_of("train: 3\n");
  CHECK_THAT(m, Catch::Contains("field 'train'") && Catch::Contains("expected a mapping"));
  m = error_of("lora: {r: 0}\n");
  CHECK_THAT(m, Catch::Contains("lora.r"));
  m = error_of("name: [unclosed\n");
  CHECK_THAT(m, Catch::Contains("malformed YAML"));
}

TEST_CASE("key.path=value overrides apply after the file", "[recipe]") {
  auto r = psy::parse_recipe("train: {lr: 1.0e-4}\n", "r.yaml", {"train.lr=3e-4", "data.path=[a.json, b.json]", "name=z"});
  CHECK(r.train.lr == Approx(3e-4));
  CHECK(r.data.path.size() == 2);
  CHECK(r.output == "runs/z");
  CHECK_THAT(error_of("", {"train.lrx=1"}), Catch::Contains("unknown key 'train.lrx'") && Catch::Contains("lr"));
  CHECK_THAT(error_of("", {"train.lr"}), Catch::Contains("expected key.path=value"));
  CHECK_THAT(error_of("", {"train.lr=x"}), Catch::Contains("train.lr"));
}

TEST_CASE("the resolved recipe prints every key and reads back identically", "[recipe]") {
  auto r = psy::parse_recipe("name: rt\nlora: {dropout: 0.05}\ndata: {markers: {observation: 'Obs:'}}\n", "r.yaml");
  std::string yaml = psy::recipe_to_yaml(r);
  CHECK_THAT(yaml, Catch::Contains("dropout: 0.05 "));
  auto back = psy::parse_recipe(yaml, "back.yaml");
  CHECK(psy::recipe_to_yaml(back) == yaml);
}

TEST_CASE("every recipe shipped in recipes/ is valid", "[recipe]") {
  int n = 0;
  for (const char* sub : {"/recipes", "/recipes/paper"}) {
    const std::string dir = psy::test::source_dir() + sub;
    DIR* d = opendir(dir.c_str());
    REQUIRE(d != nullptr);
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() < 5 || name.substr(name.size() - 5) != ".yaml") continue;
      INFO(name);
      CHECK_NOTHROW(psy::load_recipe(dir + "/" + name));
      ++n;
    }
    closedir(d);
  }
  CHECK(n >= 9);
}
