// Decoder behaviour beyond the golden: layer-by-layer API, sliding window, RoPE scaling,
// tied head, dtypes, both attention kernels, loading errors.
#include "tests/io/torch_catch.h"

#include "libpsy/core/error.h"
#include "libpsy/nn/load_decoder.h"
#include "tests/test_support.h"
#include "tests/tiny_decoder.h"

namespace {

psy::DecoderConfig tiny_config(int64_t layers = 2) {
  psy::test::TinyDecoderShape s;
  s.model_type = "mistral";
  s.vocab_size = 50;
  s.intermediate_size = 64;
  s.num_hidden_layers = layers;
  s.rms_norm_eps = 1e-5;
  s.eos_token_ids = {2};
  return s.config();
}

psy::Decoder random_decoder(const psy::DecoderConfig& c, psy::DecoderOptions o = {}) {
  torch::manual_seed(11);
  psy::Decoder d(c, o);
  d->init_random_weights();
  {
    torch::NoGradGuard g;  // larger weights make differences visible
    for (auto& p : d->parameters()) {
      if (p.dim() == 2) p.mul_(20);
    }
  }
  d->eval();
  return d;
}

}  // namespace

TEST_CASE("looping over layers by hand gives the same logits as forward()") {
  auto d = random_decoder(tiny_config());
  torch::NoGradGuard g;
  torch::Tensor ids = torch::randint(3, 50, {2, 7});
  torch::Tensor mask = torch::ones({2, 7}, torch::kInt64);
  mask[1].narrow(0, 5, 2).fill_(0);
  auto ctx = d->context(ids, mask);
  torch::Tensor h = d->embed(ids);
  for (auto& layer : d->layers()) h = layer->forward(h, ctx);
  CHECK(torch::allclose(d->logits(d->final_norm(h)), d->forward(ids, mask)));
}

TEST_CASE("a right-padded row gives the same logits as the row alone") {
  auto d = random_decoder(tiny_config());
  torch::NoGradGuard g;
  torch::Tensor ids = torch::randint(3, 50, {2, 9});
  torch::Tensor mask = torch::ones({2, 9}, torch::kInt64);
  mask[1].narrow(0, 6, 3).fill_(0);
  torch::Tensor batched = d->forward(ids, mask);
  torch::Tensor alone = d->forward(ids[1].narrow(0, 0, 6).unsqueeze(0));
  CHECK(torch::allclose(batched[1].narrow(0, 0, 6), alone[0], 1e-4, 1e-4));
}

TEST_CASE("sliding window: with one layer, the last position sees only the last W tokens") {
  auto c = tiny_config(1);
  c.sliding_window = 3;
  auto d = random_decoder(c);
  torch::NoGradGuard g;
  torch::Tensor ids = torch::randint(3, 50, {1, 8});
  torch::Tensor full = d->forward(ids);
  torch::Tensor tail = d->forward(ids.narrow(1, 5, 3));  // RoPE is relative: shifted positions do not matter
  CHECK(torch::allclose(full[0][7], tail[0][2], 1e-4, 1e-4));
  auto no_window = random_decoder(tiny_config(1));
  CHECK_FALSE(torch::allclose(no_window->forward(ids)[0][7], full[0][7], 1e-3, 1e-3));
}

TEST_CASE("RoPE scaling: linear divides positions; dynamic changes nothing within max_position_embeddings") {
  auto c = tiny_config();
  auto base = psy::rope_inverse_frequencies(c, 10, torch::kCPU);
  CHECK(base.size(0) == 4);
  CHECK(base[0].item<float>() == 1.0f);
  auto lin = c;
  lin.rope_scaling = psy::RopeScalingType::Linear;
  lin.rope_scaling_factor = 2.0;
  auto pos = torch::arange(6).view({1, 6});
  auto a = psy::make_attention_context(lin, pos * 2, {}, 0, torch::kCPU, psy::AttentionKernel::Plain);
  auto b = psy::make_attention_context(c, pos, {}, 0, torch::kCPU, psy::AttentionKernel::Plain);
  CHECK(torch::allclose(a.cos, b.cos));
  auto dyn = c;
  dyn.rope_scaling = psy::RopeScalingType::Dynamic;
  dyn.rope_scaling_factor = 2.0;
  dyn.max_position_embeddings = 16;
  CHECK(torch::equal(psy::rope_inverse_frequencies(dyn, 16, torch::kCPU), base));
  CHECK(psy::rope_inverse_frequencies(dyn, 64, torch::kCPU)[1].item<float>() < base[1].item<float>());
}

TEST_CASE("tied embeddings share one tensor; save and reload round-trips; bf16/fp16 give fp32 logits") {
  auto c = tiny_config();
  c.tie_word_embeddings = true;
  auto d = random_decoder(c);
  CHECK(d->lm_head->weight.data_ptr() == d->model->embed_tokens->weight.data_ptr());
  psy::test::TempDir dir;
  psy::save_decoder(*d, dir.path());
  auto back = psy::load_decoder(dir.path());
  torch::NoGradGuard g;
  torch::Tensor ids = torch::randint(3, 50, {1, 5});
  CHECK(torch::equal(back->forward(ids), d->forward(ids)));
  // fp16 matmuls exist on CUDA only (LibTorch 1.13 CPU has none).
  std::vector<torch::ScalarType> dtypes = {torch::kBFloat16};
  if (torch::cuda::is_available()) dtypes.push_back(torch::kFloat16);
  torch::Tensor reference = d->forward(ids);
  for (auto dtype : dtypes) {
    psy::DecoderOptions o;
    o.dtype = dtype;
    o.device = dtype == torch::kFloat16 ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    auto low = psy::load_decoder(dir.path(), o);
    torch::Tensor logits = low->forward(ids).cpu();
    CHECK(logits.scalar_type() == torch::kFloat32);
    CHECK((logits - reference).abs().max().item<double>() < 0.05 * reference.abs().max().item<double>());
  }
}

TEST_CASE("plain and fused attention agree, with padding and a cache (LibTorch >= 2.0)") {
  if (!psy::fused_attention_available()) {
    std::cerr << "SKIPPED: this LibTorch has no scaled_dot_product_attention\n";
    return;
  }
  psy::DecoderOptions plain, fused;
  plain.attention = psy::AttentionKernel::Plain;
  fused.attention = psy::AttentionKernel::Fused;
  auto a = random_decoder(tiny_config(), plain);
  auto b = random_decoder(tiny_config(), fused);
  torch::NoGradGuard g;
  torch::Tensor ids = torch::randint(3, 50, {2, 7});
  torch::Tensor mask = torch::ones({2, 7}, torch::kInt64);
  mask[0].narrow(0, 0, 2).fill_(0);
  CHECK(torch::allclose(a->forward(ids, mask).narrow(1, 2, 5), b->forward(ids, mask).narrow(1, 2, 5), 1e-4, 1e-4));
  CHECK(torch::allclose(a->forward(ids), b->forward(ids), 1e-4, 1e-4));
}

TEST_CASE("loading refuses checkpoints that do not fit the config, naming the tensor") {
  auto d = random_decoder(tiny_config());
  psy::test::TempDir dir;
  psy::save_decoder(*d, dir.path());
  auto c = tiny_config();
  c.num_hidden_layers = 3;
  psy::test::write_file(dir.file("config.json"), psy::decoder_config_to_json(c));
  CHECK_THROWS_WITH(psy::load_decoder(dir.path()), Catch::Contains("checkpoint lacks model.layers.2."));
  c.num_hidden_layers = 1;
  psy::test::write_file(dir.file("config.json"), psy::decoder_config_to_json(c));
  CHECK_THROWS_WITH(psy::load_decoder(dir.path()), Catch::Contains("unexpected tensors") && Catch::Contains("model.layers.1."));
  c.num_hidden_layers = 2;
  c.intermediate_size = 65;
  psy::test::write_file(dir.file("config.json"), psy::decoder_config_to_json(c));
  CHECK_THROWS_WITH(psy::load_decoder(dir.path()), Catch::Contains("mlp.") && Catch::Contains("expected shape"));
}
