// The decoder families (hf_config.h) in psy alone, fast: Hugging Face parameter names per family,
// and that the existing machinery keeps agreeing with itself for the new options (biases, q/k
// norms, partial interleaved RoPE, fused gate_up, sandwich norms, llama3 RoPE, per-layer sliding
// windows): KV-cache decoding and left padding equal the plain forward, both attention kernels,
// NF4 runs, a layer split equals one device, LoRA targets by family names and PEFT round trips.
// Equality with transformers itself is test_hf_families (live).
#include "tests/io/torch_catch.h"

#include <set>

#include "libpsy/core/error.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/lora.h"
#include "libpsy/nn/nf4.h"
#include "libpsy/nn/peft_adapter_io.h"
#include "libpsy/nn/placement.h"
#include "tests/nn/family_decoders.h"
#include "tests/test_support.h"

namespace {

using psy_test::family_config_json;
using psy_test::random_family_decoder;

struct Family {
  std::string name, json;
};

std::vector<Family> families() {
  return {
      {"llama3", family_config_json("llama", R"(,"tie_word_embeddings":true,"rope_parameters":{"rope_type":"llama3",
        "rope_theta":500000.0,"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":64})")},
      {"qwen2", family_config_json("qwen2", R"(,"use_sliding_window":true,"sliding_window":4,"max_window_layers":1)")},
      {"qwen3", family_config_json("qwen3", R"(,"head_dim":16,"attention_bias":true)")},
      {"mistral", family_config_json("mistral", R"(,"sliding_window":null)")},
      {"glm", family_config_json("glm", R"(,"partial_rotary_factor":0.5,"attention_bias":true)")},
      {"glm4", family_config_json("glm4", R"(,"partial_rotary_factor":0.5,"attention_bias":true)")},
  };
}

std::set<std::string> names_of(psy::DecoderImpl& d) {
  std::set<std::string> out;
  for (const auto& p : d.named_parameters()) out.insert(p.key());
  return out;
}

torch::Tensor ids_for(const psy::DecoderConfig& c, int64_t batch, int64_t t) {
  torch::manual_seed(9);
  return torch::randint(3, c.vocab_size, {batch, t}, torch::kInt64);
}

}  // namespace

TEST_CASE("each family's parameters carry the Hugging Face checkpoint names") {
  auto names = [](const std::string& json) {
    psy::Decoder d(psy::parse_decoder_config(json, "config.json"), psy::DecoderOptions{});
    return names_of(*d);
  };
  const auto f = families();
  auto llama = names(f[0].json), qwen2 = names(f[1].json), qwen3 = names(f[2].json), mistral = names(f[3].json),
       glm = names(f[4].json), glm4 = names(f[5].json);
  const std::string L = "model.layers.1.";
  CHECK_FALSE(llama.count(L + "self_attn.q_proj.bias"));
  CHECK(qwen2.count(L + "self_attn.q_proj.bias"));
  CHECK(qwen2.count(L + "self_attn.k_proj.bias"));
  CHECK(qwen2.count(L + "self_attn.v_proj.bias"));
  CHECK_FALSE(qwen2.count(L + "self_attn.o_proj.bias"));
  CHECK(qwen3.count(L + "self_attn.q_norm.weight"));
  CHECK(qwen3.count(L + "self_attn.k_norm.weight"));
  CHECK(qwen3.count(L + "self_attn.o_proj.bias"));  // attention_bias: all four
  CHECK(mistral.size() == 3 + 3 * 9);                // embed, norm, lm_head; 2 norms + 7 weights per layer
  for (const auto* g : {&glm, &glm4}) {
    CHECK(g->count(L + "mlp.gate_up_proj.weight"));
    CHECK_FALSE(g->count(L + "mlp.gate_proj.weight"));
    CHECK(g->count(L + "self_attn.q_proj.bias"));
    CHECK_FALSE(g->count(L + "self_attn.o_proj.bias"));
  }
  CHECK_FALSE(glm.count(L + "post_mlp_layernorm.weight"));
  CHECK(glm4.count(L + "post_self_attn_layernorm.weight"));
  CHECK(glm4.count(L + "post_mlp_layernorm.weight"));
  psy::Decoder g(psy::parse_decoder_config(f[4].json, "config.json"), psy::DecoderOptions{});
  CHECK(g->layers()[0]->mlp->gate_up_proj->weight.sizes() == torch::IntArrayRef({96, 32}));
}

TEST_CASE("every family: KV cache, left padding, kernels and a layer split agree with the plain forward") {
  for (const auto& fam : families()) {
    INFO(fam.name);
    auto c = psy::parse_decoder_config(fam.json, "config.json");
    psy::Decoder d = random_family_decoder(c);
    torch::NoGradGuard no_grad;
    torch::Tensor ids = ids_for(c, 2, 9);
    torch::Tensor full = d->forward(ids);
    // Incremental decoding with the cache: 6 tokens, then one at a time.
    psy::KVCache cache(c.num_hidden_layers);
    torch::Tensor first = d->forward(ids.narrow(1, 0, 6), {}, &cache);
    CHECK(torch::allclose(first, full.narrow(1, 0, 6), 1e-5, 1e-5));
    for (int64_t t = 6; t < 9; ++t) {
      torch::Tensor step = d->forward(ids.narrow(1, t, 1), {}, &cache);
      CHECK(torch::allclose(step.squeeze(1), full.select(1, t), 1e-5, 1e-5));
    }
    // Left padding: row 1 shortened to 5 tokens behind 4 pads gives its unpadded logits.
    torch::Tensor short_ids = ids[1].narrow(0, 4, 5).unsqueeze(0);
    torch::Tensor alone = d->forward(short_ids);
    torch::Tensor padded = ids.clone();
    padded[1].narrow(0, 0, 4).fill_(0);
    torch::Tensor mask = torch::ones({2, 9}, torch::kInt64);
    mask[1].narrow(0, 0, 4).fill_(0);
    torch::Tensor positions = (mask.cumsum(1) - 1).clamp_min(0);
    torch::Tensor batched = d->forward(padded, mask, nullptr, positions);
    CHECK(torch::allclose(batched[1].narrow(0, 4, 5), alone[0], 1e-5, 1e-5));
    CHECK(torch::allclose(batched[0], full[0], 1e-5, 1e-5));
    // The other kernel.
    if (psy::fused_attention_available()) {
      psy::DecoderOptions o;
      o.attention = psy::AttentionKernel::Plain;
      psy::Decoder plain = random_family_decoder(c, o);
      CHECK(torch::allclose(plain->forward(ids), full, 1e-5, 1e-5));
    }
    // A layer split over two CPU "devices" (the tied head stays with the embeddings).
    psy::Decoder split = random_family_decoder(c);
    psy::place_layers(*split, psy::plan_layer_split(*split, {torch::kCPU, torch::kCPU}));
    CHECK(torch::allclose(split->forward(ids), full, 1e-6, 1e-6));
  }
}

TEST_CASE("a sliding window applies only to the layers the config names") {
  auto c = psy::parse_decoder_config(families()[1].json, "config.json");  // qwen2: window 4 from layer 1
  REQUIRE(c.layer_uses_window(1));
  REQUIRE_FALSE(c.layer_uses_window(0));
  psy::Decoder d = random_family_decoder(c);
  auto wide = c;
  wide.sliding_window.reset();
  wide.sliding_window_layers.clear();
  psy::Decoder no_window = random_family_decoder(wide);
  torch::NoGradGuard no_grad;
  torch::Tensor ids = ids_for(c, 1, 8);
  torch::Tensor a = d->forward(ids), b = no_window->forward(ids);
  CHECK(torch::allclose(a.narrow(1, 0, 4), b.narrow(1, 0, 4), 1e-6, 1e-6));  // within the window: the same
  CHECK_FALSE(torch::allclose(a.narrow(1, 4, 4), b.narrow(1, 4, 4), 1e-4, 1e-4));
  // Every layer windowed differs again from layer 1 alone.
  auto all = c;
  all.sliding_window_layers.clear();
  psy::Decoder everywhere = random_family_decoder(all);
  CHECK_FALSE(torch::allclose(everywhere->forward(ids).narrow(1, 4, 4), a.narrow(1, 4, 4), 1e-4, 1e-4));
}

TEST_CASE("llama3 RoPE keeps short wavelengths, slows long ones by factor and blends the band between") {
  auto c = psy::parse_decoder_config(families()[0].json, "config.json");  // original 64, head_dim 8
  auto plain = c;
  plain.rope_scaling = psy::RopeScalingType::None;
  torch::Tensor base = psy::rope_inverse_frequencies(plain, 10, torch::kCPU);
  torch::Tensor scaled = psy::rope_inverse_frequencies(c, 10, torch::kCPU);
  REQUIRE(base.size(0) == 4);
  // wavelengths 2 pi / inv_freq: 6.3 (< 64/4: kept), 168 (> 64: / 8), 4490 and 1.2e5 (/ 8).
  CHECK(scaled[0].item<float>() == base[0].item<float>());
  CHECK(scaled[2].item<float>() == Approx(base[2].item<float>() / 8).epsilon(1e-6));
  auto band = c;
  band.rope_original_max_position_embeddings = 400;  // 168 lies between 400/4 and 400
  torch::Tensor blended = psy::rope_inverse_frequencies(band, 10, torch::kCPU);
  CHECK(blended[1].item<float>() < base[1].item<float>());
  CHECK(blended[1].item<float>() > base[1].item<float>() / 8);
}

TEST_CASE("NF4 quantises the family projections and keeps biases and norms") {
  for (const auto& fam : families()) {
    INFO(fam.name);
    auto c = psy::parse_decoder_config(fam.json, "config.json");
    psy::Decoder d = random_family_decoder(c);
    torch::NoGradGuard no_grad;
    torch::Tensor ids = ids_for(c, 1, 6);
    torch::Tensor before = d->forward(ids);
    auto summary = psy::quantize_decoder_nf4(*d);
    CHECK(summary.projections == c.num_hidden_layers * (c.fused_gate_up ? 6 : 7));
    torch::Tensor after = d->forward(ids);
    CHECK(after.sizes() == before.sizes());
    CHECK((after - before).abs().max().item<double>() < 0.1 * before.abs().max().item<double>() + 0.05);
  }
}

TEST_CASE("LoRA targets use the family's module names and PEFT round trips them (GLM's gate_up_proj)") {
  auto c = psy::parse_decoder_config(families()[4].json, "config.json");
  psy::Decoder d = random_family_decoder(c);
  psy::LoraSpec spec;
  spec.r = 2;
  spec.alpha = 4;
  spec.targets = {"q_proj", "gate_up_proj", "down_proj"};
  auto paths = psy::inject_lora(*d, spec, 7);
  CHECK(paths.size() == 9);
  CHECK(std::find(paths.begin(), paths.end(), "model.layers.2.mlp.gate_up_proj") != paths.end());
  CHECK_THROWS_WITH(psy::inject_lora(*d, psy::LoraSpec{2, 4, 0, false, {"gate_proj"}}, 7),
                    Catch::Contains("gate_proj") && Catch::Contains("gate_up_proj"));
  {
    torch::NoGradGuard no_grad;
    for (auto& [path, proj] : d->projections())
      if (proj->has_lora()) proj->lora_B.copy_(torch::randn(proj->lora_B.sizes()) * 0.1);
  }
  psy::test::TempDir tmp;
  psy::save_peft_adapter(*d, tmp.path(), "tiny-glm");
  psy::SafetensorsReader written(tmp.file("adapter_model.safetensors"));
  CHECK(written.has("base_model.model.model.layers.0.mlp.gate_up_proj.lora_A.weight"));
  CHECK(written.has("base_model.model.model.layers.0.mlp.gate_up_proj.lora_B.weight"));
  CHECK(written.shape("base_model.model.model.layers.0.mlp.gate_up_proj.lora_B.weight") == std::vector<int64_t>({96, 2}));
  psy::Decoder fresh = random_family_decoder(c);
  CHECK(psy::load_peft_adapter(*fresh, tmp.path()) == 9);
  torch::NoGradGuard no_grad;
  torch::Tensor ids = ids_for(c, 1, 5);
  CHECK(torch::allclose(fresh->forward(ids), d->forward(ids), 1e-6, 1e-6));
}

TEST_CASE("save_decoder writes a folder load_decoder reads back, for every family") {
  for (const auto& fam : families()) {
    INFO(fam.name);
    auto c = psy::parse_decoder_config(fam.json, "config.json");
    psy::Decoder d = random_family_decoder(c);
    psy::test::TempDir tmp;
    psy::save_decoder(*d, tmp.path());
    psy::Decoder back = psy::load_decoder(tmp.path());
    torch::NoGradGuard no_grad;
    torch::Tensor ids = ids_for(c, 1, 7);
    CHECK(torch::equal(back->forward(ids), d->forward(ids)));
    psy::SafetensorsReader file(tmp.file("model.safetensors"));
    CHECK(file.has("lm_head.weight") == !c.tie_word_embeddings);
  }
}
