// psy logits on a golden model: the written file matches the golden logits.
#include "tests/io/torch_catch.h"

#include "libpsy/io/safetensors.h"
#include "tests/test_support.h"

TEST_CASE("psy logits writes the golden logits for the golden inputs (with and without the adapter)") {
  const std::string dir = psy::test::shared_path("golden/llama/llama_mqa_bf16_sharded");
  if (dir.empty()) return;
  psy::test::TempDir tmp;
  for (bool lora : {false, true}) {
    INFO(lora);
    const std::string out = tmp.file(lora ? "lora.safetensors" : "base.safetensors");
    auto r = psy::test::run_psy("logits --model '" + dir + "' --input '" + dir + "/inputs.json' --out '" + out + "'" +
                                (lora ? " --adapter '" + dir + "/adapter'" : ""));
    REQUIRE(r.exit_code == 0);
    psy::SafetensorsReader ours(out), golden(dir + (lora ? "/logits_lora.safetensors" : "/logits.safetensors"));
    CHECK(ours.names().size() == golden.names().size());
    for (const auto& name : golden.names()) {
      INFO(name);
      REQUIRE(ours.has(name));
      CHECK(torch::allclose(ours.tensor(name), golden.tensor(name), 1e-4, 1e-4));
    }
  }
  auto bad = psy::test::run_psy("logits --model '" + dir + "' --input /nonexistent.json --out " + tmp.file("x"));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("/nonexistent.json"));
  auto help = psy::test::run_psy("logits --help");
  CHECK_THAT(help.out, Catch::Contains("logits.<b>"));
}
