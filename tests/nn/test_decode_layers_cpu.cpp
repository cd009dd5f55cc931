// decode_layers_cpu (the decode step's layers on raw buffers) against the module path it replaces:
// the same logits bit for bit, for each family it takes (Llama with llama3 RoPE and tied
// embeddings, Qwen2's biases and per-layer window, Qwen3's q/k norms and output bias, Mistral's
// window on every layer), fp32 and bf16, with and without LoRA adapters, 3 rows (the one-row
// tiles) and 9 (two-row tiles of 8 and 1), left padding; and whole continuous-batching runs.
#include "tests/io/torch_catch.h"

#include "libpsy/core/cpu_features.h"
#include "libpsy/generate/continuous_batching.h"
#include "libpsy/nn/decode_layers_cpu.h"
#include "libpsy/nn/decoder.h"
#include "libpsy/nn/few_rows_matmul.h"
#include "tests/nn/family_decoders.h"

namespace {

// Head width 16: decode attention takes multiples of 16.
std::string config_json(const std::string& model_type, const std::string& extra) {
  return psy_test::family_config_json(model_type, extra, psy_test::FamilySize{50, 64, 96, 16});
}

struct Family {
  std::string name, json;
};

std::vector<Family> families() {
  return {
      {"llama3", config_json("llama", R"(,"tie_word_embeddings":true,"rope_parameters":{"rope_type":"llama3",
        "rope_theta":500000.0,"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":64})")},
      {"qwen2", config_json("qwen2", R"(,"use_sliding_window":true,"sliding_window":5,"max_window_layers":1)")},
      {"qwen3", config_json("qwen3", R"(,"attention_bias":true)")},
      {"mistral", config_json("mistral", R"(,"sliding_window":5)")},
  };
}

// The kernels decode_layers_cpu needs; without them the module path runs and there is nothing to compare.
bool cpu_has_kernels() { return psy::cpu_features().avx512f && psy::few_rows_matmul_isa() != psy::FewRowsIsa::None; }

psy::Decoder random_decoder(const psy::DecoderConfig& c, torch::ScalarType dtype, bool fast, bool adapters) {
  psy::DecoderOptions o;
  o.dtype = dtype;
  o.cpu_decode_layers = fast;
  psy::Decoder d = psy_test::random_family_decoder(c, o);
  torch::NoGradGuard no_grad;
  if (adapters) {
    for (auto& [name, p] : d->projections()) {
      if (name == "lm_head") continue;
      p->add_lora(4, 8.0);
      p->lora_B.copy_(torch::randn(p->lora_B.sizes()) * 0.05);  // PEFT's B = 0 would add nothing
    }
  }
  return d;
}

// Prefill of `rows` left-padded prompts, then `steps` decode steps; every step's logits [rows, V].
std::vector<torch::Tensor> decode(psy::DecoderImpl& d, int64_t rows, int64_t steps) {
  torch::NoGradGuard no_grad;
  const int64_t t = 6;
  torch::manual_seed(9);
  torch::Tensor ids = torch::randint(3, d.config().vocab_size, {rows, t}, torch::kInt64);
  torch::Tensor mask = torch::ones({rows, t}, torch::kInt64);
  for (int64_t r = 1; r < rows; r += 2) mask[r].narrow(0, 0, r % 4 + 1).fill_(0);  // some rows shorter
  torch::Tensor positions = (mask.cumsum(1) - 1).clamp_min(0);
  psy::KVCache cache(d.config().num_hidden_layers);
  torch::Tensor logits = d.next_token_logits(ids, mask, &cache, positions);
  std::vector<torch::Tensor> out;
  for (int64_t s = 0; s < steps; ++s) {
    torch::Tensor next = logits.argmax(-1).view({rows, 1});
    mask = torch::cat({mask, torch::ones({rows, 1}, torch::kInt64)}, 1);
    positions = positions.select(1, positions.size(1) - 1).view({rows, 1}) + 1;
    logits = d.next_token_logits(next, mask, &cache, positions);
    out.push_back(logits);
  }
  return out;
}

}  // namespace

TEST_CASE("a decode step through decode_layers_cpu equals the module path bit for bit") {
  if (!cpu_has_kernels()) {
    WARN("this CPU lacks AVX-512F or the few-rows kernels: decode_layers_cpu never runs here, nothing to compare");
    return;
  }
  for (const auto& fam : families()) {
    const psy::DecoderConfig c = psy::parse_decoder_config(fam.json, "config.json");
    for (torch::ScalarType dtype : {torch::kFloat32, torch::kBFloat16}) {
      for (bool adapters : {false, true}) {
        for (int64_t rows : {3, 9}) {
          INFO(fam.name << ", " << c10::toString(dtype) << (adapters ? ", LoRA" : "") << ", " << rows << " rows");
          psy::Decoder fast = random_decoder(c, dtype, true, adapters);
          psy::Decoder modules = random_decoder(c, dtype, false, adapters);
          const int64_t before = psy::decode_layers_cpu_steps();
          // 12 steps after 6 positions: past the cache's first 16 columns, so its buffers grow once.
          const std::vector<torch::Tensor> a = decode(*fast, rows, 12);
          CHECK(psy::decode_layers_cpu_steps() - before == 12);  // every step took the raw path
          const int64_t between = psy::decode_layers_cpu_steps();
          const std::vector<torch::Tensor> b = decode(*modules, rows, 12);
          CHECK(psy::decode_layers_cpu_steps() == between);  // and the other none
          for (std::size_t s = 0; s < a.size(); ++s) {
            INFO("step " << s);
            CHECK(torch::equal(a[s], b[s]));
          }
        }
      }
    }
  }
}

TEST_CASE("continuous batching gives the same tokens through decode_layers_cpu as through the modules") {
  if (!cpu_has_kernels()) {
    WARN("this CPU lacks AVX-512F or the few-rows kernels: decode_layers_cpu never runs here, nothing to compare");
    return;
  }
  const psy::DecoderConfig c = psy::parse_decoder_config(families()[0].json, "config.json");
  std::vector<std::vector<int64_t>> prompts;
  torch::manual_seed(3);
  for (int64_t n : {4, 11, 7, 2, 9, 5, 13}) {
    torch::Tensor p = torch::randint(3, c.vocab_size, {n}, torch::kInt64);
    prompts.emplace_back(p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + n);
  }
  psy::GenerationOptions o;
  o.max_new_tokens = 24;
  o.prefix_cache_bytes = 0;
  auto run = [&](bool fast) {
    psy::Decoder d = random_decoder(c, torch::kFloat32, fast, false);
    std::vector<std::vector<int64_t>> out(prompts.size());
    psy::generate_continuous(*d, prompts, o, 3, nullptr,
                             [&](std::size_t i, psy::GeneratedRow r) { out[i] = std::move(r.new_ids); });
    return out;
  };
  const int64_t before = psy::decode_layers_cpu_steps();
  const auto fast = run(true);
  CHECK(psy::decode_layers_cpu_steps() > before);
  CHECK(fast == run(false));
  for (const auto& row : fast) CHECK(row.size() == 24);
}

TEST_CASE("KVCache::append_step writes what append writes, past the buffers' first capacity") {
  torch::NoGradGuard no_grad;
  torch::manual_seed(5);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    INFO(c10::toString(dtype));
    const int64_t rows = 3, heads = 2, dim = 16;
    psy::KVCache by_tensor(1), by_step(1);
    const torch::Tensor prompt_k = torch::randn({rows, heads, 5, dim}).to(dtype), prompt_v = torch::randn({rows, heads, 5, dim}).to(dtype);
    by_tensor.append(0, prompt_k, prompt_v);
    by_step.append(0, prompt_k, prompt_v);
    for (int step = 0; step < 20; ++step) {  // 5 + 20 positions: the 16-column buffers grow
      const torch::Tensor k = torch::randn({rows, 1, heads * dim}).to(dtype), v = torch::randn({rows, 1, heads * dim}).to(dtype);
      auto [want_k, want_v] = by_tensor.append(0, k.view({rows, 1, heads, dim}).transpose(1, 2), v.view({rows, 1, heads, dim}).transpose(1, 2));
      auto [got_k, got_v] = by_step.append_step(0, k.data_ptr(), v.data_ptr());
      REQUIRE(by_step.length_of(0) == 6 + step);
      CHECK(torch::equal(got_k.narrow(2, 0, 6 + step), want_k));
      CHECK(torch::equal(got_v.narrow(2, 0, 6 + step), want_v));
    }
  }
}
