// psy's greedy decoding against transformers' generate, live (issue 19): real SmolLM2-135M-Instruct
// in fp32, held-out prompts of the quickstart recipe in the model's own chat template, 128 new
// tokens; psy unbatched (every prompt prefilled whole) and continuously batched (prompts reuse
// earlier prompts' starts), with and without a PEFT adapter (made by PEFT itself), and psy's
// batch sizes against each other. Outputs must be token-identical except
// where the first differing token was a near-tie: transformers' top-2 logit margin below 1e-4 at
// that step (counted and printed). PSY_PARITY_PROMPTS sets the number of prompts (default 8;
// the check is 50).
#include "tests/io/torch_catch.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "libpsy/evaluate/held_out_examples.h"
#include "libpsy/generate/continuous_batching.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/peft_adapter_io.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/text/tokenizer.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;

namespace {

constexpr int64_t kNewTokens = 128;
constexpr double kNearTie = 1e-4;

struct Reference {
  std::vector<std::vector<int64_t>> outputs;
  std::vector<std::vector<double>> margins;
};

Reference run_transformers(const nlohmann::json& job, const std::string& dir) {
  const std::string path = dir + "/job.json";
  std::ofstream(path) << job.dump();
  const auto r = psy::test::run_reference_python("tests/reference/hf_greedy_generate.py", psy::test::shell_quote(path));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  return {j["outputs"].get<std::vector<std::vector<int64_t>>>(), j["margins"].get<std::vector<std::vector<double>>>()};
}

// Unbatched runs prefill every prompt whole; batched ones reuse the keys/values of earlier
// prompts' starts (prefix_store.h), which these held-out turns share, and say how many.
std::vector<std::vector<int64_t>> run_psy(psy::DecoderImpl& d, const std::vector<std::vector<int64_t>>& prompts,
                                          psy::GenerationOptions o, int64_t slots) {
  if (slots == 1) o.prefix_cache_bytes = 0;
  std::vector<std::vector<int64_t>> out(prompts.size());
  const psy::ContinuousStats stats = psy::generate_continuous(
      d, prompts, o, slots, nullptr, [&](std::size_t i, psy::GeneratedRow row) { out[i] = std::move(row.new_ids); });
  if (slots > 1) {
    std::cout << "  " << slots << " slots: " << stats.reused_prompt_tokens << " of " << stats.prompt_tokens
              << " prompt tokens reused from earlier prompts\n";
    CHECK(stats.reused_prompt_tokens > 0);
  }
  return out;
}

// Compares psy's rows with the reference: identical, or first differing at a near-tie (counted).
void check_equal(const std::string& what, const std::vector<std::vector<int64_t>>& got, const Reference& ref) {
  int identical = 0, near_ties = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& a = got[i];
    const auto& b = ref.outputs[i];
    if (a == b) {
      ++identical;
      continue;
    }
    std::size_t k = 0;
    while (k < a.size() && k < b.size() && a[k] == b[k]) ++k;
    const double margin = k < ref.margins[i].size() ? ref.margins[i][k] : 1e9;
    INFO(what << ": prompt " << i << " differs at new token " << k << " (psy " << (k < a.size() ? a[k] : -1)
              << ", transformers " << (k < b.size() ? b[k] : -1) << "), top-2 margin " << margin);
    CHECK(margin < kNearTie);
    ++near_ties;
  }
  std::cout << "generate parity, " << what << ": " << identical << " of " << got.size() << " identical, " << near_ties
            << " first differing at a near-tie (margin < 1e-4)\n";
}

}  // namespace

TEST_CASE("greedy decoding equals transformers' generate on SmolLM2, batched and not, with and without an adapter") {
  const std::string model = psy::test::reference_path("models/smollm2-135m-instruct");
  if (model.empty() || psy::test::reference_python().empty()) return;
  const char* env = std::getenv("PSY_PARITY_PROMPTS");
  const int count = env ? std::atoi(env) : 8;
  const psy::Recipe recipe = psy::load_recipe(psy::test::source_dir() + "/recipes/quickstart.yaml",
                                              {"model.path=" + model, "data.test_fraction=0.85",
                                               "eval.max_samples=" + std::to_string(count)});
  const psy::Tokenizer tok = psy::Tokenizer::load(model);
  const psy::HeldOutSet held = psy::held_out_examples(recipe, tok, psy::eval_prompt_budget(recipe));
  REQUIRE(static_cast<int>(held.examples.size()) == count);
  std::vector<std::vector<int64_t>> prompts;
  for (const auto& e : held.examples) prompts.emplace_back(e.prompt.input_ids.begin(), e.prompt.input_ids.end());

  psy::Decoder decoder = psy::load_decoder(model);
  decoder->eval();
  psy::GenerationOptions o;
  o.max_new_tokens = kNewTokens;
  o.eos_ids = decoder->config().eos_token_ids;
  if (tok.eos_id() >= 0 && std::find(o.eos_ids.begin(), o.eos_ids.end(), tok.eos_id()) == o.eos_ids.end())
    o.eos_ids.push_back(tok.eos_id());
  o.pad_id = o.eos_ids.empty() ? 0 : o.eos_ids[0];

  const psy::test::TempDir tmp;
  const std::string dir = tmp.path();
  nlohmann::json job = {{"model", model}, {"prompts", prompts}, {"max_new_tokens", kNewTokens}, {"eos_ids", o.eos_ids}};
  const Reference base = run_transformers(job, dir);
  const auto unbatched = run_psy(*decoder, prompts, o, 1);
  check_equal("base, unbatched", unbatched, base);
  check_equal("base, 4 slots", run_psy(*decoder, prompts, o, 4), base);
  check_equal("base, 4 slots vs unbatched", run_psy(*decoder, prompts, o, 4), Reference{unbatched, base.margins});

  job["make_adapter"] = dir + "/adapter";
  const Reference tuned = run_transformers(job, dir);
  psy::load_peft_adapter(*decoder, dir + "/adapter");
  const auto tuned_unbatched = run_psy(*decoder, prompts, o, 1);
  check_equal("adapter, unbatched", tuned_unbatched, tuned);
  check_equal("adapter, 4 slots", run_psy(*decoder, prompts, o, 4), tuned);
  int changed = 0;
  for (std::size_t i = 0; i < prompts.size(); ++i) changed += tuned_unbatched[i] != unbatched[i] ? 1 : 0;
  CHECK(changed > 0);  // the adapter is live
}
