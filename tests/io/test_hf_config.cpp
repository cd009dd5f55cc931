// config.json -> DecoderConfig: the golden configs, defaults, and clear refusals.
#include <catch2/catch.hpp>

#include "libpsy/core/error.h"
#include "libpsy/io/hf_config.h"
#include "tests/test_support.h"

namespace {
const char* kBase = R"({"model_type":"llama","vocab_size":32,"hidden_size":16,"intermediate_size":40,
  "num_hidden_layers":2,"num_attention_heads":4)";

std::string with(const std::string& extra) { return std::string(kBase) + extra + "}"; }

std::string error_of(const std::string& json) {
  try {
    psy::parse_decoder_config(json, "config.json");
  } catch (const psy::Error& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("a minimal llama config gets the documented defaults") {
  auto c = psy::parse_decoder_config(with(""), "config.json");
  CHECK(c.num_key_value_heads == 4);
  CHECK(c.head_dim == 4);
  CHECK(c.rope_theta == 10000.0);
  CHECK(c.rope_scaling == psy::RopeScalingType::None);
  CHECK_FALSE(c.sliding_window.has_value());
  CHECK_FALSE(c.tie_word_embeddings);
  auto back = psy::parse_decoder_config(psy::decoder_config_to_json(c), "x");
  CHECK(back.hidden_size == 16);
  CHECK(back.head_dim == 4);
}

TEST_CASE("the golden configs parse with their sizes") {
  const std::string dir = psy::test::shared_path("golden/llama/mistral_gqa");
  if (dir.empty()) return;
  auto c = psy::load_decoder_config(dir);
  CHECK(c.model_type == "mistral");
  CHECK(c.hidden_size == 96);
  CHECK(c.num_key_value_heads == 2);
  CHECK(c.head_dim == 16);
  CHECK(c.rope_theta == 1e6);
  CHECK(c.rms_norm_eps == 1e-6);
  CHECK_FALSE(c.sliding_window.has_value());
  CHECK(c.eos_token_ids == std::vector<int64_t>({2}));
  auto b = psy::load_decoder_config(psy::test::shared_path("golden/llama/llama_mqa_bf16_sharded") + "/config.json");
  CHECK(b.torch_dtype == "bfloat16");
  CHECK(b.head_dim == 32);
}

TEST_CASE("rope scaling: linear, dynamic and llama3 accepted, others refused by name") {
  auto lin = psy::parse_decoder_config(with(R"(,"rope_scaling":{"type":"linear","factor":2.0})"), "c");
  CHECK(lin.rope_scaling == psy::RopeScalingType::Linear);
  CHECK(lin.rope_scaling_factor == 2.0);
  auto dyn = psy::parse_decoder_config(with(R"(,"rope_scaling":{"rope_type":"dynamic","factor":4})"), "c");
  CHECK(dyn.rope_scaling == psy::RopeScalingType::Dynamic);
  CHECK_THAT(error_of(with(R"(,"rope_scaling":{"rope_type":"yarn","factor":8})")),
             Catch::Contains("rope_scaling.rope_type") && Catch::Contains("yarn") && Catch::Contains("llama3"));
  CHECK_THAT(error_of(with(R"(,"rope_scaling":{"type":"linear"})")), Catch::Contains("rope_scaling.factor"));
}

TEST_CASE("unsupported architectures and fields are refused naming them") {
  CHECK_THAT(error_of(R"({"model_type":"gpt2"})"), Catch::Contains("'gpt2'") && Catch::Contains("model_type") &&
                                                      Catch::Contains("qwen3") && Catch::Contains("glm4"));
  CHECK_THAT(error_of(with(R"(,"architectures":["Qwen2ForCausalLM"])")), Catch::Contains("Qwen2ForCausalLM"));
  CHECK_THAT(error_of(with(R"(,"hidden_act":"gelu")")), Catch::Contains("gelu"));
  CHECK_THAT(error_of(with(R"(,"num_key_value_heads":3)")), Catch::Contains("num_key_value_heads"));
  CHECK_THAT(error_of(with(R"(,"torch_dtype":"int8")")), Catch::Contains("torch_dtype"));
  CHECK_THAT(error_of(R"({"model_type":"llama","vocab_size":32})"), Catch::Contains("hidden_size"));
  CHECK_THAT(error_of("{"), Catch::Contains("not valid JSON"));
}

namespace {
// A config of `model_type` with the small sizes above and `extra` fields.
std::string family(const std::string& model_type, const std::string& extra = "") {
  return R"({"model_type":")" + model_type + R"(","vocab_size":32,"hidden_size":16,"intermediate_size":40,
    "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2)" + extra + "}";
}
psy::DecoderConfig parse(const std::string& json) { return psy::parse_decoder_config(json, "config.json"); }
}  // namespace

TEST_CASE("Llama-3.x: llama3 RoPE in either form, tied embeddings, attention_bias / mlp_bias") {
  const std::string scaling =
      R"("factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192,"rope_type":"llama3")";
  auto v4 = parse(family("llama", R"(,"rope_theta":500000.0,"tie_word_embeddings":true,"rope_scaling":{)" + scaling + "}"));
  auto v5 = parse(family("llama", R"(,"tie_word_embeddings":true,"rope_parameters":{"rope_theta":500000.0,)" + scaling + "}"));
  for (const auto& c : {v4, v5}) {
    CHECK(c.rope_scaling == psy::RopeScalingType::Llama3);
    CHECK(c.rope_theta == 500000.0);
    CHECK(c.rope_scaling_factor == 8.0);
    CHECK(c.rope_low_freq_factor == 1.0);
    CHECK(c.rope_high_freq_factor == 4.0);
    CHECK(c.rope_original_max_position_embeddings == 8192);
    CHECK(c.tie_word_embeddings);
    CHECK_FALSE(c.qkv_bias);
    auto back = parse(psy::decoder_config_to_json(c));
    CHECK(back.rope_scaling == psy::RopeScalingType::Llama3);
    CHECK(back.rope_original_max_position_embeddings == 8192);
    CHECK(back.rope_theta == 500000.0);
  }
  // original_max_position_embeddings defaults to max_position_embeddings, as transformers does.
  auto dflt = parse(family("llama", R"(,"max_position_embeddings":4096,"rope_scaling":{"rope_type":"llama3","factor":8,"low_freq_factor":1,"high_freq_factor":4})"));
  CHECK(dflt.rope_original_max_position_embeddings == 4096);
  CHECK_THAT(error_of(family("llama", R"(,"rope_scaling":{"rope_type":"llama3","factor":8,"high_freq_factor":4})")),
             Catch::Contains("rope_scaling.low_freq_factor"));
  auto biased = parse(family("llama", R"(,"attention_bias":true,"mlp_bias":true)"));
  CHECK(biased.qkv_bias);
  CHECK(biased.o_bias);
  CHECK(biased.mlp_bias);
  // A non-empty rope_scaling wins over rope_parameters (transformers' convert_rope_params_to_dict).
  auto both = parse(family("llama", R"(,"rope_scaling":{"type":"linear","factor":2},"rope_parameters":{"rope_type":"default","rope_theta":7.0})"));
  CHECK(both.rope_scaling == psy::RopeScalingType::Linear);
  CHECK(both.rope_theta == 10000.0);
  auto empty_scaling = parse(family("llama", R"(,"rope_scaling":{},"rope_parameters":{"rope_type":"default","rope_theta":7.0})"));
  CHECK(empty_scaling.rope_theta == 7.0);
}

TEST_CASE("Qwen2: q/k/v biases always, o_proj none; sliding window only with use_sliding_window") {
  auto c = parse(family("qwen2", R"(,"rope_theta":1000000.0,"rope_scaling":null,"use_sliding_window":false,
    "sliding_window":131072,"max_window_layers":28,"tie_word_embeddings":true)"));
  CHECK(c.qkv_bias);
  CHECK_FALSE(c.o_bias);
  CHECK_FALSE(c.mlp_bias);
  CHECK_FALSE(c.sliding_window.has_value());
  CHECK_FALSE(c.layer_uses_window(0));
  CHECK(c.rope_theta == 1e6);
  CHECK(c.head_dim == 4);
  auto w = parse(family("qwen2", R"(,"use_sliding_window":true,"sliding_window":8,"max_window_layers":1)"));
  REQUIRE(w.sliding_window.has_value());
  CHECK(*w.sliding_window == 8);
  CHECK_FALSE(w.layer_uses_window(0));
  CHECK(w.layer_uses_window(1));
  auto lt = parse(family("qwen2", R"(,"use_sliding_window":true,"sliding_window":8,"layer_types":["sliding_attention","full_attention"])"));
  CHECK(lt.layer_uses_window(0));
  CHECK_FALSE(lt.layer_uses_window(1));
  auto back = parse(psy::decoder_config_to_json(lt));
  CHECK(back.layer_uses_window(0));
  CHECK_FALSE(back.layer_uses_window(1));
  CHECK(back.qkv_bias);
  CHECK_THAT(error_of(family("qwen2", R"(,"layer_types":["full_attention","chunked_attention"])")),
             Catch::Contains("layer_types") && Catch::Contains("chunked_attention"));
  CHECK_THAT(error_of(family("qwen2", R"(,"mlp_bias":true)")), Catch::Contains("mlp_bias"));
}

TEST_CASE("Qwen3: q/k norms, head_dim decoupled (default 128), attention_bias on all four projections") {
  auto c = parse(family("qwen3", R"(,"head_dim":32,"rope_parameters":{"rope_type":"default","rope_theta":1000000.0})"));
  CHECK(c.qk_norm);
  CHECK(c.head_dim == 32);
  CHECK(c.rotary_dim() == 32);
  CHECK(c.rope_theta == 1e6);
  CHECK_FALSE(c.qkv_bias);
  CHECK(parse(family("qwen3")).head_dim == 128);
  auto b = parse(family("qwen3", R"(,"attention_bias":true)"));
  CHECK(b.qkv_bias);
  CHECK(b.o_bias);
  CHECK(parse(psy::decoder_config_to_json(b)).o_bias);
}

TEST_CASE("Mistral v0.3: vocab 32768, rope_theta 1e6, sliding_window null; the class default window when absent") {
  auto c = parse(R"({"architectures":["MistralForCausalLM"],"model_type":"mistral","vocab_size":32768,"hidden_size":4096,
    "intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,"head_dim":null,
    "rope_theta":1000000.0,"sliding_window":null,"max_position_embeddings":32768,"rms_norm_eps":1e-05,"bos_token_id":1,
    "eos_token_id":2,"tie_word_embeddings":false,"torch_dtype":"bfloat16"})");
  CHECK(c.vocab_size == 32768);
  CHECK(c.head_dim == 128);
  CHECK_FALSE(c.sliding_window.has_value());
  CHECK_FALSE(c.qkv_bias);
  auto absent = parse(family("mistral"));
  REQUIRE(absent.sliding_window.has_value());
  CHECK(*absent.sliding_window == 4096);
  CHECK(absent.layer_uses_window(1));
  CHECK_THAT(error_of(family("mistral", R"(,"attention_bias":true)")), Catch::Contains("attention_bias"));
}

TEST_CASE("GLM and GLM-4-0414: partial interleaved rotary, fused gate_up, q/k/v bias, sandwich norms") {
  auto glm = parse(family("glm", R"(,"architectures":["GlmForCausalLM"],"head_dim":8,"partial_rotary_factor":0.5,
    "attention_bias":true,"rms_norm_eps":1.5625e-07,"rope_theta":10000.0)"));
  CHECK(glm.fused_gate_up);
  CHECK(glm.rope_interleaved);
  CHECK(glm.partial_rotary_factor == 0.5);
  CHECK(glm.rotary_dim() == 4);
  CHECK(glm.qkv_bias);
  CHECK_FALSE(glm.o_bias);
  CHECK_FALSE(glm.sandwich_norms);
  CHECK(glm.rms_norm_eps == 1.5625e-07);
  // v5 keeps partial_rotary_factor inside rope_parameters; the class defaults are 0.5, 128, bias on.
  auto v5 = parse(family("glm4", R"(,"rope_parameters":{"rope_type":"default","rope_theta":10000.0,"partial_rotary_factor":0.25})"));
  CHECK(v5.partial_rotary_factor == 0.25);
  CHECK(v5.head_dim == 128);
  CHECK(v5.rotary_dim() == 32);
  CHECK(v5.sandwich_norms);
  CHECK(v5.qkv_bias);
  auto dflt = parse(family("glm"));
  CHECK(dflt.partial_rotary_factor == 0.5);
  auto back = parse(psy::decoder_config_to_json(glm));
  CHECK(back.rotary_dim() == 4);
  CHECK(back.qkv_bias);
  CHECK(back.fused_gate_up);
  CHECK_THAT(error_of(family("glm", R"(,"architectures":["Glm4ForCausalLM"])")),
             Catch::Contains("Glm4ForCausalLM") && Catch::Contains("GlmForCausalLM"));
  CHECK_THAT(error_of(family("llama", R"(,"partial_rotary_factor":0.5)")), Catch::Contains("partial_rotary_factor"));
}

TEST_CASE("bad RoPE and family values fail with one line naming the file and the key") {
  const std::string bad[][2] = {
      {family("qwen2", R"(,"rope_parameters":{"rope_type":"longrope","factor":4})"), "rope_parameters.rope_type"},
      {family("qwen3", R"(,"rope_scaling":{"rope_type":"yarn","factor":4,"original_max_position_embeddings":4096})"), "yarn"},
      {family("llama", R"(,"rope_scaling":{"rope_type":"linear","factor":2,"beta_fast":32})"), "rope_scaling.beta_fast"},
      {family("llama", R"(,"rope_parameters":{"full_attention":{"rope_type":"default"}})"), "rope_parameters.full_attention"},
      {family("glm", R"(,"hidden_act":"gelu")"), "hidden_act"},
      {family("glm4", R"(,"mlp_bias":true)"), "mlp_bias"},
      {family("qwen2", R"(,"quantization_config":{"quant_method":"awq"})"), "quantization_config"},
      {family("phi3"), "phi3"},
  };
  for (const auto& [json, key] : bad) {
    INFO(json);
    const std::string e = error_of(json);
    CHECK_THAT(e, Catch::Contains("config.json") && Catch::Contains(key));
    CHECK(e.find('\n') == std::string::npos);
  }
}
