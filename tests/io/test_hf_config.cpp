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

TEST_CASE("rope scaling: linear and dynamic accepted, others refused by name") {
  auto lin = psy::parse_decoder_config(with(R"(,"rope_scaling":{"type":"linear","factor":2.0})"), "c");
  CHECK(lin.rope_scaling == psy::RopeScalingType::Linear);
  CHECK(lin.rope_scaling_factor == 2.0);
  auto dyn = psy::parse_decoder_config(with(R"(,"rope_scaling":{"rope_type":"dynamic","factor":4})"), "c");
  CHECK(dyn.rope_scaling == psy::RopeScalingType::Dynamic);
  CHECK_THAT(error_of(with(R"(,"rope_scaling":{"rope_type":"llama3","factor":8})")),
             Catch::Contains("rope_scaling.type") && Catch::Contains("llama3"));
  CHECK_THAT(error_of(with(R"(,"rope_scaling":{"type":"linear"})")), Catch::Contains("rope_scaling.factor"));
}

TEST_CASE("unsupported architectures and fields are refused naming them") {
  CHECK_THAT(error_of(R"({"model_type":"gpt2"})"), Catch::Contains("'gpt2'") && Catch::Contains("model_type"));
  CHECK_THAT(error_of(with(R"(,"architectures":["Qwen2ForCausalLM"])")), Catch::Contains("Qwen2ForCausalLM"));
  CHECK_THAT(error_of(with(R"(,"attention_bias":true)")), Catch::Contains("attention_bias"));
  CHECK_THAT(error_of(with(R"(,"hidden_act":"gelu")")), Catch::Contains("gelu"));
  CHECK_THAT(error_of(with(R"(,"num_key_value_heads":3)")), Catch::Contains("num_key_value_heads"));
  CHECK_THAT(error_of(with(R"(,"torch_dtype":"int8")")), Catch::Contains("torch_dtype"));
  CHECK_THAT(error_of(R"({"model_type":"llama","vocab_size":32})"), Catch::Contains("hidden_size"));
  CHECK_THAT(error_of("{"), Catch::Contains("not valid JSON"));
}
