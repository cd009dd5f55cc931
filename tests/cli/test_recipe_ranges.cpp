// Issue 18, defects 1, 2 and 13 (recipe side): integers never wrap, NaN and infinity never pass,
// every key is range-checked where the recipe is validated, duplicate keys are refused, and each
// message names the key, the value, where it came from (file:line or the override) and what is allowed.
#include <catch2/catch.hpp>

#include <algorithm>

#include "libpsy/core/error.h"
#include "libpsy/recipe/recipe.h"
#include "tests/test_support.h"

namespace {
std::string recipe_error(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    psy::parse_recipe(yaml, "r.yaml", overrides);
  } catch (const psy::Error& e) {
    CHECK(e.exit_code() == 2);
    return e.what();
  }
  return "<accepted>";
}
}  // namespace

TEST_CASE("integers beyond their type are refused, never wrapped (override and file)", "[recipe][issue18]") {
  auto m = recipe_error("", {"train.micro_batch=4294967300"});
  CHECK_THAT(m, Catch::Contains("override 'train.micro_batch=4294967300'") && Catch::Contains("field 'train.micro_batch'") &&
                    Catch::Contains("from -2147483648 to 2147483647") && Catch::Contains("'4294967300'"));
  CHECK_THAT(recipe_error("", {"lora.r=4294967304"}), Catch::Contains("override 'lora.r=4294967304'"));
  CHECK_THAT(recipe_error("", {"train.max_steps=99999999999999999999999"}), Catch::Contains("train.max_steps"));
  m = recipe_error("name: x\nlora:\n  r: 4294967304\n");
  CHECK_THAT(m, Catch::StartsWith("r.yaml:3:") && Catch::Contains("lora.r"));
  // A value in the int range but out of the key's range blames the override, not the file.
  m = recipe_error("name: x\n", {"train.micro_batch=3000000000"});
  CHECK_THAT(m, Catch::StartsWith("override 'train.micro_batch=3000000000'"));
  m = recipe_error("name: x\n", {"train.micro_batch=100000"});
  CHECK_THAT(m, Catch::StartsWith("override 'train.micro_batch=100000'") && Catch::Contains("from 1 to 65536") &&
                    Catch::Contains("found 100000"));
}

TEST_CASE("NaN and infinity never pass a range check", "[recipe][issue18]") {
  for (const char* o : {"lora.dropout=nan", "train.lr=nan", "train.lr=inf", "train.lr=-inf", "lora.alpha=1e999",
                        "data.test_fraction=nan", "train.max_grad_norm=inf", "data.prompt_loss_weight=nan",
                        "eval.top_p=nan", "train.epochs=inf", "data.section_weights={response: nan}"}) {
    INFO(o);
    auto m = recipe_error("", {o});
    CHECK_THAT(m, Catch::StartsWith(std::string("override '") + o + "'") && Catch::Contains("finite number"));
  }
  CHECK_THAT(recipe_error("train:\n  lr: nan\n"), Catch::StartsWith("r.yaml:2:") && Catch::Contains("train.lr"));
}

TEST_CASE("every key with a range is checked, naming what is allowed", "[recipe][issue18]") {
  struct Case { const char* override_; const char* allowed; };
  for (const Case& c : {Case{"threads=-5", "from 0 to 4096"}, Case{"seed=-1", ">= 0"},
                        Case{"lora.r=1000000000", "from 1 to 65536"}, Case{"lora.alpha=0", "> 0"},
                        Case{"lora.dropout=1", "[0, 1)"}, Case{"data.max_seq_len=8", "from 16 to"},
                        Case{"data.prompt_loss_weight=1.5", "[0, 1]"}, Case{"train.min_lr_ratio=2", "[0, 1]"},
                        Case{"train.weight_decay=-0.1", ">= 0"}, Case{"train.keep_last=-1", "from 0 to"},
                        Case{"train.log_every=0", ">= 1"}, Case{"train.warmup_steps=-3", ">= 0"},
                        Case{"train.save_every=-1", ">= 0"}, Case{"eval.temperature=0", "> 0"},
                        Case{"eval.top_k=-1", ">= 0"}, Case{"eval.repetition_penalty=0", "> 0"},
                        Case{"eval.max_samples=-2", ">= 0"}, Case{"eval.prefix_cache_mb=-1", "from 0 to"},
                        Case{"devices.split=[2, 0]", "from 1 to"},
                        Case{"train.epochs=-1", "[0, 1e+06]"}}) {
    INFO(c.override_);
    auto m = recipe_error("", {c.override_});
    CHECK_THAT(m, Catch::StartsWith(std::string("override '") + c.override_ + "'") && Catch::Contains(c.allowed));
  }
  // From the file: file and line of the key.
  auto m = recipe_error("name: x\nthreads: -5\n");
  CHECK_THAT(m, Catch::StartsWith("r.yaml:2: field 'threads'") && Catch::Contains("found -5"));
}

TEST_CASE("the recipe and the sample options agree on prompt_loss_weight and max_seq_len", "[recipe][issue18]") {
  CHECK(recipe_error("data: {prompt_loss_weight: 1.0, max_seq_len: 16}\n") == "<accepted>");
  CHECK_THAT(recipe_error("data: {prompt_loss_weight: 2}\n"), Catch::Contains("[0, 1]"));
  CHECK_THAT(recipe_error("data: {max_seq_len: 12}\n"), Catch::Contains("from 16"));
  CHECK_THAT(recipe_error("data: {task: mix, mix_tasks: []}\n"), Catch::Contains("data.mix_tasks"));
}

TEST_CASE("duplicate keys in a recipe are refused, naming both lines", "[recipe][issue18]") {
  auto m = recipe_error("name: a\ntrain:\n  lr: 1.0e-4\n  lr: 2.0e-4\n");
  CHECK_THAT(m, Catch::StartsWith("r.yaml:4:") && Catch::Contains("duplicate key 'train.lr'") &&
                    Catch::Contains("line 3"));
  CHECK_THAT(recipe_error("name: a\nname: b\n"), Catch::Contains("duplicate key 'name'"));
  CHECK_THAT(recipe_error("train: {lr: 1}\ntrain: {epochs: 2}\n"), Catch::Contains("duplicate key 'train'"));
}

TEST_CASE("psy recipe show rejects what psy train would, in one line", "[recipe][issue18][cli]") {
  const std::string q = psy::test::source_dir() + "/recipes/quickstart.yaml";
  for (const char* o : {"train.micro_batch=4294967300", "lora.dropout=nan", "threads=-5", "train.lr=inf"}) {
    INFO(o);
    auto r = psy::test::run_psy("recipe show " + psy::test::shell_quote(q) + " " + o);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::Contains(std::string("override '") + o + "'"));
    auto t = psy::test::run_psy("train " + psy::test::shell_quote(q) + " " + o + " --quiet");
    CHECK(t.exit_code == 2);
    CHECK(t.err == r.err);
  }
}

TEST_CASE("combinations psy train refuses are refused by the recipe itself", "[recipe][issue18]") {
  CHECK_THAT(recipe_error("devices: {use: [cuda:0, cuda:1]}\n"), Catch::Contains("devices.parallel"));
  CHECK(recipe_error("devices: {use: [cuda:0, cuda:1], parallel: data}\n") == "<accepted>");
  CHECK_THAT(recipe_error("", {"train.precision=fp16"}),
             Catch::StartsWith("override 'train.precision=fp16'") && Catch::Contains("fp16 needs a CUDA device"));
  CHECK(recipe_error("devices: {use: [cuda:0]}\ntrain: {precision: fp16}\n") == "<accepted>");
  CHECK_THAT(recipe_error("train: {mode: full, precision: bf16}\n"), Catch::Contains("train.mode"));
  CHECK_THAT(recipe_error("train: {mode: full}\nmodel: {quantization: nf4}\n"), Catch::Contains("model.quantization"));
}

TEST_CASE("device names are checked where the recipe is validated", "[recipe][issue18]") {
  CHECK(recipe_error("devices: {use: ['cuda:1']}\n") == "<accepted>");
  for (const char* d : {"cuda:", "cuda:x", "cuda:99999", "gpu", "cuda:-1"}) {
    INFO(d);
    CHECK_THAT(recipe_error(std::string("devices: {use: ['") + d + "']}\n"), Catch::Contains("cpu, cuda or cuda:N"));
  }
}
