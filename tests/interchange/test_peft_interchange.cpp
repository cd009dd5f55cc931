// Adapters cross between psy and PEFT, live: PEFT's adapters load in psy with PEFT's logits,
// refused ones fail with one clear line, and an adapter psy train writes loads in
// PeftModel.from_pretrained unchanged with psy's logits (tests/reference/peft_interchange.py).
// Every family of the models issue (tiny-<family> in .reference/models) is checked both ways, and
// psy merge's output (fp32 and bf16 bases) loads in transformers with the merged logits.
#include "tests/io/torch_catch.h"

#include <cstdio>
#include <fstream>
#include <map>

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
                           " model.chat_template=mistral output=" + shell_quote(run) + " lora.targets=" + targets +
                           " lora.dropout=0 lora.r=4 lora.alpha=12 train.max_steps=3 train.warmup_ratio=0 train.lr=1.0e-2 train.eval_every=0 data.max_seq_len=1024 threads=2 --overwrite");
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

TEST_CASE("every family: PEFT's adapters load in psy, psy's load in PEFT, and psy merge loads in transformers") {
  if (psy::test::reference_python().empty()) return;
  std::vector<std::string> families;
  for (const std::string f : {"llama3", "qwen2", "qwen3", "mistral", "glm", "glm4"}) {
    const std::string dir = psy::test::reference_path("models/tiny-" + f);
    if (dir.empty()) return;
    // The GLM tokenizers are trained on ../shared's Psy-Insight text: absent without it.
    if (std::ifstream(dir + "/tokenizer.json").good())
      families.push_back(f);
    else
      std::printf("SKIPPED: %s has no tokenizer.json (scripts/setup-reference.sh makes it from ../shared)\n", dir.c_str());
  }
  psy::test::TempDir tmp;
  const std::string src = psy::test::source_dir();
  auto base = [&](const std::string& f) { return tmp.file("base_" + f); };
  auto peft = [&](const std::string& f) { return tmp.file("peft_" + f); };
  auto run = [&](const std::string& f) { return tmp.file("run_" + f); };
  auto python_batch = [&](const nlohmann::json& jobs, const std::string& name) {
    psy::test::write_file(tmp.file(name), jobs.dump());
    return psy::test::run_reference_python("tests/reference/peft_interchange.py", "batch " + shell_quote(tmp.file(name)));
  };
  // 1. PEFT's side: each tiny family with embeddings as large as its real tokenizer (so psy can
  //    train it), PEFT's own adapters with their logits, and a bf16 copy of one base.
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& f : families) {
    jobs.push_back({"fit-vocab", psy::test::reference_path("models/tiny-" + f), base(f)});
    jobs.push_back({"make", base(f), peft(f)});
  }
  jobs.push_back({"bf16-copy", base("llama3"), tmp.file("bf16_base")});
  auto made = python_batch(jobs, "jobs.json");
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  // 2. psy's side: PEFT's adapters applied; an adapter trained on every family's own chat template
  //    (every linear layer and lm_head) with its logits; merged into fp32 and bf16 bases.
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& f : families) {
    INFO(f);
    const std::string inputs = peft(f) + "/inputs.json";
    for (const auto& c : nlohmann::json::parse(psy::test::read_file(peft(f) + "/configs.json"))) {
      const std::string name = c["name"];
      INFO(name);
      const std::string logits = peft(f) + "/" + name + ".psy.safetensors";
      auto r = run_psy("logits --model " + shell_quote(base(f)) + " --adapter " + shell_quote(peft(f) + "/" + name) +
                       " --input " + shell_quote(inputs) + " --out " + shell_quote(logits));
      if (c["refused"].get<bool>()) {
        CHECK(r.exit_code == 2);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        continue;
      }
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      CHECK(relative_difference(logits, peft(f) + "/" + name + ".expected.safetensors") <= 1e-4);
    }
    // Without lm_head too: attention projections only, checked in PEFT alongside.
    for (const std::string& variant : {std::string(""), std::string("_qvo")}) {
      auto trained = run_psy("train " + shell_quote(src + "/recipes/quickstart.yaml") + " model.path=" + shell_quote(base(f)) +
                             " output=" + shell_quote(run(f) + variant) + " lora.targets=" +
                             (variant.empty() ? "[all-linear,lm_head]" : "[q_proj,v_proj,o_proj]") +
                             " lora.dropout=0 lora.r=4 lora.alpha=8 train.max_steps=2"
                             " train.lr=1.0e-2 train.warmup_ratio=0 train.eval_every=0 threads=2 --quiet --overwrite");
      INFO(trained.err);
      REQUIRE(trained.exit_code == 0);
    }
    auto qvo = run_psy("logits --model " + shell_quote(base(f)) + " --adapter " + shell_quote(run(f) + "_qvo/adapter") +
                       " --input " + shell_quote(inputs) + " --out " + shell_quote(run(f) + "_qvo/ours.safetensors"));
    REQUIRE(qvo.exit_code == 0);
    checks.push_back({"logits", base(f), run(f) + "_qvo/adapter", inputs, run(f) + "_qvo/peft.safetensors"});
    auto ours = run_psy("logits --model " + shell_quote(base(f)) + " --adapter " + shell_quote(run(f) + "/adapter") +
                        " --input " + shell_quote(inputs) + " --out " + shell_quote(run(f) + "/ours.safetensors"));
    REQUIRE(ours.exit_code == 0);
    auto merged = run_psy("merge --model " + shell_quote(base(f)) + " --adapter " + shell_quote(run(f) + "/adapter") +
                          " --out " + shell_quote(run(f) + "/merged") + " --threads 2");
    INFO(merged.err);
    REQUIRE(merged.exit_code == 0);
    checks.push_back({"logits", base(f), run(f) + "/adapter", inputs, run(f) + "/peft.safetensors"});
    checks.push_back({"merged", run(f) + "/merged", inputs, run(f) + "/merged.safetensors"});
  }
  const std::string bf16_merged = tmp.file("bf16_merged"), llama_inputs = peft("llama3") + "/inputs.json";
  auto merged = run_psy("merge --model " + shell_quote(tmp.file("bf16_base")) + " --adapter " +
                        shell_quote(run("llama3") + "/adapter") + " --out " + shell_quote(bf16_merged) + " --threads 2");
  INFO(merged.err);
  REQUIRE(merged.exit_code == 0);
  checks.push_back({"merged", bf16_merged, llama_inputs, bf16_merged + "/transformers.safetensors"});
  // 3. PEFT loads psy's adapters unchanged, transformers loads psy's merged models: same logits.
  auto loaded = python_batch(checks, "checks.json");
  INFO(loaded.err);
  REQUIRE(loaded.exit_code == 0);
  for (const auto& f : families) {
    INFO(f);
    CHECK(relative_difference(run(f) + "/ours.safetensors", run(f) + "/peft.safetensors") <= 1e-4);
    CHECK(relative_difference(run(f) + "_qvo/ours.safetensors", run(f) + "_qvo/peft.safetensors") <= 1e-4);
    CHECK(relative_difference(run(f) + "/ours.safetensors", run(f) + "/merged.safetensors") <= 1e-4);
  }
  // A bf16 base merges into bf16 weights and config, which transformers reads as psy does.
  psy::CheckpointReader weights(bf16_merged);
  for (const auto& name : weights.names()) {
    INFO(name);
    CHECK(weights.dtype(name) == torch::kBFloat16);
  }
  const auto config = nlohmann::json::parse(psy::test::read_file(bf16_merged + "/config.json"));
  CHECK(config.value("dtype", config.value("torch_dtype", std::string())) == "bfloat16");
  auto ours = run_psy("logits --model " + shell_quote(bf16_merged) + " --input " + shell_quote(llama_inputs) + " --out " +
                      shell_quote(tmp.file("bf16_ours.safetensors")));
  REQUIRE(ours.exit_code == 0);
  CHECK(relative_difference(tmp.file("bf16_ours.safetensors"), bf16_merged + "/transformers.safetensors") <= 1e-4);
}
