// Generation: golden greedy continuations, cache == recompute, batched left padding,
// seeded sampling, penalties and stops.
#include "tests/io/torch_catch.h"

#include <sstream>

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/generate/generator.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/peft_adapter_io.h"
#include "tests/test_support.h"
#include "tests/tiny_decoder.h"

namespace {

std::vector<int64_t> ids_of(const nlohmann::json& j) { return j.get<std::vector<int64_t>>(); }

psy::Decoder random_decoder() {
  psy::Decoder d = psy::test::tiny_random_decoder(psy::test::TinyDecoderShape{}.config(), 5);
  {
    torch::NoGradGuard g;
    for (auto& p : d->parameters()) if (p.dim() == 2) p.mul_(40);
  }
  d->eval();
  return d;
}

}  // namespace

TEST_CASE("greedy continuation equals the golden one, base and with the adapter, cached and not") {
  for (const char* name : {"llama_mha", "mistral_gqa", "llama_mqa_bf16_sharded"}) {
    const std::string dir = psy::test::shared_path(std::string("golden/llama/") + name);
    if (dir.empty()) return;
    INFO(name);
    auto inputs = nlohmann::json::parse(psy::test::read_file(dir + "/inputs.json"));
    auto expected = nlohmann::json::parse(psy::test::read_file(dir + "/expected.json"))["greedy"];
    psy::Decoder d = psy::load_decoder(dir);
    psy::GenerationOptions o;
    o.max_new_tokens = inputs["greedy"]["max_new_tokens"].get<int64_t>();
    const auto prompt = ids_of(inputs["greedy"]["prompt"]);
    for (bool cache : {true, false}) {
      o.use_cache = cache;
      CHECK(psy::generate(*d, {prompt}, o).rows[0].new_ids == ids_of(expected["base"]["new_ids"]));
    }
    psy::load_peft_adapter(*d, dir + "/adapter");
    o.use_cache = true;
    CHECK(psy::generate(*d, {prompt}, o).rows[0].new_ids == ids_of(expected["lora"]["new_ids"]));
  }
}

TEST_CASE("cached decoding gives the same logits as recomputing from scratch") {
  auto d = random_decoder();
  torch::NoGradGuard g;
  torch::Tensor ids = torch::randint(3, 40, {2, 9});
  torch::Tensor full = d->forward(ids);
  psy::KVCache cache(2);
  torch::Tensor a = d->forward(ids.narrow(1, 0, 5), {}, &cache);
  torch::Tensor b = d->forward(ids.narrow(1, 5, 3), {}, &cache);  // several tokens at once
  torch::Tensor c = d->forward(ids.narrow(1, 8, 1), {}, &cache);
  CHECK(cache.length() == 9);
  CHECK(torch::allclose(torch::cat({a, b, c}, 1), full, 1e-4, 1e-4));
}

TEST_CASE("a left-padded batch generates what each prompt generates alone") {
  auto d = random_decoder();
  psy::GenerationOptions o;
  o.max_new_tokens = 8;
  std::vector<std::vector<int64_t>> prompts = {{1, 7, 8, 9, 10, 11}, {1, 30}, {1, 5, 6}};
  auto batched = psy::generate(*d, prompts, o);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    INFO(i);
    CHECK(batched.rows[i].new_ids == psy::generate(*d, {prompts[i]}, o).rows[0].new_ids);
  }
  o.use_cache = false;
  auto recomputed = psy::generate(*d, prompts, o);
  for (std::size_t i = 0; i < prompts.size(); ++i) CHECK(recomputed.rows[i].new_ids == batched.rows[i].new_ids);
}

TEST_CASE("sampling is reproducible for a seed, differs across seeds; top_k 1 is greedy") {
  auto d = random_decoder();
  psy::GenerationOptions o;
  o.max_new_tokens = 12;
  o.sampling.do_sample = true;
  o.sampling.temperature = 2.0;
  o.seed = 42;
  auto a = psy::generate(*d, {{1, 4}}, o).rows[0].new_ids;
  CHECK(psy::generate(*d, {{1, 4}}, o).rows[0].new_ids == a);
  o.seed = 43;
  CHECK(psy::generate(*d, {{1, 4}}, o).rows[0].new_ids != a);
  o.sampling.top_k = 1;
  psy::GenerationOptions greedy;
  greedy.max_new_tokens = 12;
  CHECK(psy::generate(*d, {{1, 4}}, o).rows[0].new_ids == psy::generate(*d, {{1, 4}}, greedy).rows[0].new_ids);
}

TEST_CASE("top-k and top-p keep the right tokens; repetition penalty follows HF's rule") {
  torch::Tensor logits = torch::log(torch::tensor({{0.5, 0.3, 0.15, 0.05}}));
  psy::SamplingOptions s;
  s.top_p = 0.8;
  auto kept = psy::filter_logits(logits, s).isfinite();
  CHECK(kept.sum().item<int64_t>() == 2);
  s.top_p = 0.81;
  CHECK(psy::filter_logits(logits, s).isfinite().sum().item<int64_t>() == 3);
  s.top_p = 1.0;
  s.top_k = 3;
  CHECK(psy::filter_logits(logits, s).isfinite().sum().item<int64_t>() == 3);
  torch::Tensor x = torch::tensor({{2.0, -2.0, 1.0}});
  psy::apply_repetition_penalty(x, {{0, 1, 1}}, 2.0);
  CHECK(torch::allclose(x, torch::tensor({{1.0, -4.0, 1.0}})));
}

TEST_CASE("generation stops on EOS, on stop strings (text cut before them), and at max_new_tokens") {
  auto d = random_decoder();
  psy::GenerationOptions o;
  o.max_new_tokens = 10;
  auto free_run = psy::generate(*d, {{1, 3}}, o).rows[0];
  CHECK(free_run.finish_reason == "length");
  CHECK(free_run.new_ids.size() == 10);
  o.eos_ids = {free_run.new_ids[3]};
  auto eos = psy::generate(*d, {{1, 3}}, o).rows[0];
  CHECK(eos.finish_reason == "eos");
  CHECK(eos.new_ids.size() <= 4);
  CHECK(eos.new_ids.back() == free_run.new_ids[3]);
  o.eos_ids.clear();
  o.detokenize = [](const std::vector<int64_t>& ids) {
    std::string s;
    for (int64_t id : ids) s += "<" + std::to_string(id) + ">";
    return s;
  };
  o.stop_strings = {"<" + std::to_string(free_run.new_ids[2]) + ">"};
  auto stopped = psy::generate(*d, {{1, 3}}, o).rows[0];
  CHECK(stopped.finish_reason == "stop_string");
  CHECK(stopped.text.find(o.stop_strings[0]) == std::string::npos);
  int calls = 0;
  o.stop_strings.clear();
  o.interrupted = [&calls] { return ++calls > 2; };
  auto interrupted = psy::generate(*d, {{1, 3}}, o).rows[0];
  CHECK(interrupted.finish_reason == "interrupted");
  CHECK(interrupted.new_ids.size() == 2);
  CHECK_THROWS_AS(psy::generate(*d, {{1, 99}}, o), psy::Error);
}

TEST_CASE("psy generate continues token-id prompts like the golden greedy output (no tokenizer needed)") {
  const std::string dir = psy::test::shared_path("golden/llama/llama_mha");
  if (dir.empty()) return;
  auto inputs = nlohmann::json::parse(psy::test::read_file(dir + "/inputs.json"));
  auto expected = nlohmann::json::parse(psy::test::read_file(dir + "/expected.json"))["greedy"];
  psy::test::TempDir tmp;
  nlohmann::json line;
  line["input_ids"] = inputs["greedy"]["prompt"];
  psy::test::write_file(tmp.file("in.jsonl"), line.dump() + "\n" + line.dump() + "\n");
  auto r = psy::test::run_psy("generate --model '" + dir + "' --adapter '" + dir + "/adapter' --input " +
                              tmp.file("in.jsonl") + " --max-new-tokens 12 --out " + tmp.file("out.jsonl"));
  REQUIRE(r.exit_code == 0);
  std::istringstream out(psy::test::read_file(tmp.file("out.jsonl")));
  std::string l;
  int rows = 0;
  while (std::getline(out, l)) {
    auto j = nlohmann::json::parse(l);
    CHECK(j["new_ids"] == expected["lora"]["new_ids"]);
    CHECK(j["finish_reason"] == "length");
    ++rows;
  }
  CHECK(rows == 2);
  auto no_tok = psy::test::run_psy("generate --model '" + dir + "' --prompt hello");
  CHECK(no_tok.exit_code == 2);
  CHECK_THAT(no_tok.err, Catch::Contains("tokenizer"));
}
