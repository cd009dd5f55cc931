// Training parity with TRL, live: psy train and TRL's SFTTrainer on the same samples in the same
// order from the same PEFT-made initial adapter give the same loss at every optimizer step and
// the same final adapter (bench/baselines/trl_parity.sh; conventions in bench/README.md).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

namespace {

nlohmann::json run_parity(const std::string& plw, int steps, const psy::test::TempDir& tmp) {
  // The script trains on the shared Psy-Insight file when present (short samples suffice), else
  // on the bundled sample, whose chain-of-thought samples need the longer limit to be kept.
  const bool shared = !psy::test::shared_path("data/psy-insight/en_data_version7.json").empty();
  const std::string max_len = shared ? "384" : "1024";
  const std::string cmd = "PSY_EXE=" + psy::test::shell_quote(PSY_EXE) + " " +
                          psy::test::shell_quote(psy::test::source_dir() + "/bench/baselines/trl_parity.sh") +
                          " --plw " + plw + " --steps " + std::to_string(steps) + " --max-seq-len " + max_len + " --out " +
                          psy::test::shell_quote(tmp.file("plw" + plw)) + " >" + tmp.file("out") + " 2>" + tmp.file("err");
  const int status = std::system(cmd.c_str());
  INFO(psy::test::read_file(tmp.file("err")));
  REQUIRE(status == 0);
  std::string out = psy::test::read_file(tmp.file("out"));
  return nlohmann::json::parse(out.substr(out.rfind('{', out.find("\"steps\""))));
}

}  // namespace

TEST_CASE("psy train reproduces TRL's loss curve and final adapter (completion-only and full-sequence loss)") {
  if (psy::test::reference_python().empty()) return;
  psy::test::TempDir tmp;
  // prompt_loss_weight 0 is TRL's completion_only_loss; 1 is its full-sequence loss.
  for (const auto& [plw, steps] : {std::pair<std::string, int>{"0", 30}, {"1", 8}}) {
    INFO("prompt_loss_weight " << plw);
    nlohmann::json r = run_parity(plw, steps, tmp);
    INFO(r.dump());
    CHECK(r["steps"].get<int>() >= std::min(steps, 8));
    CHECK(r["psy_steps"] == r["trl_steps"]);
    CHECK(r["loss_max_rel_diff"].get<double>() <= 1e-3);
    CHECK(r["adapter_max_rel_diff"].get<double>() <= 1e-4);
    // The run learned something: the curves are not flat copies of the first loss.
    auto losses = r["psy_loss"].get<std::vector<double>>();
    CHECK(losses.back() < losses.front());
  }
}
