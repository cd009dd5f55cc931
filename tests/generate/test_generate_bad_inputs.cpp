// psy generate's bad inputs (issue 19), each one line and exit code 2 with nothing written: an
// adapter made for another base, an empty stop string, a prompt longer than the model's context.
#include "tests/io/torch_catch.h"

#include <filesystem>

#include "libpsy/io/safetensors.h"
#include "tests/cli/tiny_run.h"
#include "tests/test_support.h"

using psy::test::line_count;
using psy::test::run_psy;

namespace {

void check_one_line(const psy::test::RunResult& r, const std::string& text) {
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(line_count(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains(text));
}

}  // namespace

TEST_CASE("generate: an adapter for another base, an empty stop string, a prompt past the context") {
  psy::test::TempDir tmp;
  const std::string model = " --model " + psy::test::tiny_model_dir() + " --chat-template none --max-new-tokens 4";
  const std::string out = tmp.file("out.jsonl");

  // A LoRA adapter for a model with hidden size 48 (the tiny model's is 32).
  const std::string adapter = tmp.file("adapter");
  std::filesystem::create_directories(adapter);
  psy::test::write_file(adapter + "/adapter_config.json",
                        R"({"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj"],
                            "base_model_name_or_path": "someone/other-model"})");
  psy::write_safetensors(adapter + "/adapter_model.safetensors",
                         std::map<std::string, torch::Tensor>{
                             {"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", torch::zeros({2, 48})},
                             {"base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", torch::zeros({48, 2})}});
  auto other = run_psy("generate" + model + " --adapter " + adapter + " --prompt hello --out " + out);
  check_one_line(other, "base_model_name_or_path 'someone/other-model'");

  check_one_line(run_psy("generate" + model + " --prompt hello --stop '' --out " + out),
                 "--stop expected a non-empty text");

  std::string words;
  for (int i = 0; i < 3000; ++i) words += "feel ";
  check_one_line(run_psy("generate" + model + " --prompt '" + words + "' --out " + out),
                 "more than the model's context of 2048 positions");
  CHECK_FALSE(std::filesystem::exists(out));
}
