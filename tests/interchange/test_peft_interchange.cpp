// Adapters cross between psy and PEFT, live: PEFT's adapters load in psy with PEFT's logits,
// refused ones fail with one clear line, and an adapter psy train writes loads in
// PeftModel.from_pretrained unchanged with psy's logits (tests/reference/peft_interchange.py).
#include "tests/io/torch_catch.h"

#include <nlohmann/json.hpp>

#include "libpsy/io/safetensors.h"
#include "tests/test_support.h"

namespace {

using psy::test::run_psy;
using psy::test::shell_quote;

// max |ours - theirs| / max |theirs| over every logits.<b> tensor of two psy-logits files.
double relative_difference(const std::string& ours_file, const std::string& theirs_file) {
  psy::SafetensorsReader ours(ours_file), theirs(theirs_file);
  REQUIRE(ours.names().size() == theirs.names().size());
  double worst = 0;
  for (const auto& name : theirs.names()) {
    REQUIRE(ours.has(name));
    torch::Tensor a = ours.tensor(name), b = theirs.tensor(name);
    REQUIRE(a.sizes() == b.sizes());
    double scale = b.abs().max().item<double>();
    worst = std::max(worst, (a - b).abs().max().item<double>() / std::max(scale, 1e-12));
  }
  return worst;
}

// A tiny Llama-shaped base psy can train (its own SentencePiece tokenizer) and transformers loads.
std::string make_base(const psy::test::TempDir& tmp) {
  const std::string src = psy::test::source_dir();
  auto tok = run_psy("tokenizer train --input " + shell_quote(src + "/data/sample/psy_insight_sample_en.json") +
                     " --vocab-size 512 --out " + shell_quote(tmp.file("tokenizer")));
  REQUIRE(tok.exit_code == 0);
  auto init = run_psy("init-model --config " + shell_quote(src + "/recipes/models/quickstart-tiny-llama.json") +
                      " --tokenizer " + shell_quote(tmp.file("tokenizer")) + " --out " + shell_quote(tmp.file("base")) +
                      " --seed 7");
  REQUIRE(init.exit_code == 0);
  return tmp.file("base");
}

}  // namespace

TEST_CASE("adapters PEFT writes load in psy with PEFT's logits; DoRA and modules_to_save are refused clearly") {
  if (psy::test::reference_python().empty()) return;
  psy::test::TempDir tmp;
  const std::string base = make_base(tmp), out = tmp.file("peft");
  auto made = psy::test::run_reference_python("tests/reference/peft_interchange.py",
                                              "make " + shell_quote(base) + " " + shell_quote(out));
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  auto configs = nlohmann::json::parse(psy::test::read_file(out + "/configs.json"));
  REQUIRE(configs.size() >= 7);
  for (const auto& c : configs) {
    const std::string name = c["name"];
    INFO(name);
    const std::string logits = tmp.file(name + ".psy.safetensors");
    auto r = run_psy("logits --model " + shell_quote(base) + " --adapter " + shell_quote(out + "/" + name) +
                     " --input " + shell_quote(out + "/inputs.json") + " --out " + shell_quote(logits));
    if (c["refused"].get<bool>()) {
      CHECK(r.exit_code == 2);
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
      CHECK_THAT(r.err, Catch::Contains("adapter_config.json"));
      continue;
    }
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(relative_difference(logits, out + "/" + name + ".expected.safetensors") <= 1e-4);
  }
}

TEST_CASE("an adapter psy train writes (with and without lm_head) loads in PEFT unchanged with psy's logits") {
  if (psy::test::reference_python().empty()) return;
  psy::test::TempDir tmp;
  const std::string base = make_base(tmp);
  const std::string src = psy::test::source_dir();
  // Inputs: token ids of the base's vocabulary.
  psy::test::write_file(tmp.file("inputs.json"), R"({"input_ids": [[1, 40, 41, 42, 300, 301, 17, 99], [1, 5, 6, 7, 8, 9, 10, 11]]})");
  for (const std::string targets : {"[q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj,lm_head]", "[q_proj,v_proj]"}) {
    INFO(targets);
    const std::string run = tmp.file(targets.size() > 20 ? "run_all" : "run_qv");
    auto trained = run_psy("train " + shell_quote(src + "/recipes/quickstart.yaml") + " model.path=" + shell_quote(base) +
                           " output=" + shell_quote(run) + " lora.targets=" + targets +
                           " lora.dropout=0 lora.r=4 lora.alpha=12 train.epochs=1 train.eval_every=0 threads=2 --overwrite");
    INFO(trained.err);
    REQUIRE(trained.exit_code == 0);
    // vLLM refuses LoRA on lm_head: psy train says so once, and only when lm_head is a target.
    const bool lm_head = targets.find("lm_head") != std::string::npos;
    CHECK((trained.err.find("vLLM does not serve LoRA on lm_head") != std::string::npos) == lm_head);
    const std::string ours = run + "/ours.safetensors", theirs = run + "/peft.safetensors";
    auto r = run_psy("logits --model " + shell_quote(base) + " --adapter " + shell_quote(run + "/adapter") +
                     " --input " + shell_quote(tmp.file("inputs.json")) + " --out " + shell_quote(ours));
    REQUIRE(r.exit_code == 0);
    auto peft = psy::test::run_reference_python(
        "tests/reference/peft_interchange.py",
        "logits " + shell_quote(base) + " " + shell_quote(run + "/adapter") + " " + shell_quote(tmp.file("inputs.json")) +
            " " + shell_quote(theirs));
    INFO(peft.err);
    REQUIRE(peft.exit_code == 0);
    CHECK(relative_difference(ours, theirs) <= 1e-4);
    // The adapter changed the model: psy's logits with it differ from the base's.
    auto plain = run_psy("logits --model " + shell_quote(base) + " --input " + shell_quote(tmp.file("inputs.json")) +
                         " --out " + shell_quote(run + "/base.safetensors"));
    REQUIRE(plain.exit_code == 0);
    CHECK(relative_difference(run + "/base.safetensors", theirs) > 1e-4);
  }
}
