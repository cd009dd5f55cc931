// Layer split across devices: the balanced cut, explicit splits, and the same logits, greedy
// steps (with a KV cache) and gradients when the golden models run over two CPU placements.
#include "tests/io/torch_catch.h"

#include <iostream>

#include "libpsy/core/error.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/nf4.h"
#include "libpsy/nn/placement.h"
#include "libpsy/train/train_forward.h"
#include "libpsy/train/weighted_loss.h"
#include "tests/dist/golden_model.h"
#include "tests/test_support.h"

using namespace psy;

TEST_CASE("layer split: balanced by bytes, or as given", "[placement]") {
  const std::vector<torch::Device> two = {torch::Device("cpu"), torch::Device("cpu")};
  // 4 equal layers, a big embedding on the first stage: the first stage takes fewer layers.
  LayerSplit s = plan_layer_split({10, 10, 10, 10}, 25, 0, two);
  CHECK((s.layers_per_stage == std::vector<int>{1, 3}));
  CHECK((s.stage_bytes == std::vector<int64_t>{35, 30}));
  // Embedding and head of the same size: an even cut.
  s = plan_layer_split(std::vector<int64_t>(32, 100), 50, 50, two);
  CHECK((s.layers_per_stage == std::vector<int>{16, 16}));
  s = plan_layer_split({10, 10, 10, 10}, 0, 0, {torch::Device("cpu"), torch::Device("cpu"), torch::Device("cpu")});
  CHECK(s.layers_per_stage.size() == 3);
  CHECK(*std::max_element(s.stage_bytes.begin(), s.stage_bytes.end()) == 20);
  CHECK(s.stage_of_layer(3) == 2);

  CHECK((plan_layer_split({1, 1, 1}, 0, 0, two, {1, 2}).layers_per_stage == std::vector<int>{1, 2}));
  CHECK_THROWS_WITH(plan_layer_split({1, 1, 1}, 0, 0, two, {1, 1}), Catch::Contains("devices.split") && Catch::Contains("3 layers"));
  CHECK_THROWS_WITH(plan_layer_split({1, 1, 1}, 0, 0, two, {3}), Catch::Contains("2 entries"));
  CHECK_THROWS_WITH(plan_layer_split({1}, 0, 0, two), Catch::Contains("at most as many devices as layers"));
  CHECK_THROWS_WITH(parse_device("gpu0"), Catch::Contains("devices.use") && Catch::Contains("'gpu0'"));
  CHECK(parse_device("cuda:1").index() == 1);
}

TEST_CASE("layer split over two CPU placements gives the single-device logits, cache steps and gradients", "[placement][golden]") {
  for (const char* name : {"mistral_gqa", "llama_mha"}) {
    const std::string dir = test::shared_path(std::string("golden/llama/") + name);
    if (dir.empty()) return;
    auto in = test::golden_inputs(dir);
    Decoder one = load_decoder(dir);
    Decoder two = load_decoder(dir);
    const std::vector<torch::Device> cpus = {torch::Device("cpu"), torch::Device("cpu")};
    LayerSplit split = plan_layer_split(*two, cpus);
    std::cout << name << ":\n" << describe_split(split);
    place_layers(*two, split);
    {
      torch::NoGradGuard no_grad;
      CHECK(torch::equal(one->forward(in.ids, in.mask), two->forward(in.ids, in.mask)));
      // Incremental decoding with a KV cache: prompt, then two single-token steps.
      KVCache c1(one->config().num_hidden_layers), c2(two->config().num_hidden_layers);
      torch::Tensor p = in.ids.slice(0, 0, 1).slice(1, 0, 5);
      CHECK(torch::equal(one->forward(p, {}, &c1), two->forward(p, {}, &c2)));
      for (int64_t t : {7, 9}) {
        torch::Tensor next = torch::full({1, 1}, t, torch::kInt64);
        CHECK(torch::equal(one->forward(next, {}, &c1), two->forward(next, {}, &c2)));
      }
    }
    // Gradients of a LoRA adapter through the split.
    std::vector<torch::Tensor> g1, g2;
    for (auto* d : {&one, &two}) {
      torch::manual_seed(4);
      std::vector<torch::Tensor> params;
      for (auto& [n, proj] : (*d)->projections()) {
        proj->add_lora(4, 8.0);
        torch::NoGradGuard ng;
        proj->lora_B.normal_(0, 0.02);
        params.push_back(proj->lora_A);
        params.push_back(proj->lora_B);
      }
      weighted_next_token_loss((*d)->forward(in.plw_ids), in.plw_ids, in.plw_weights).backward();
      for (auto& p : params) (d == &one ? g1 : g2).push_back(p.grad().clone());
    }
    REQUIRE(g1.size() == g2.size());
    for (size_t i = 0; i < g1.size(); ++i) CHECK(torch::equal(g1[i], g2[i]));
  }
}

TEST_CASE("layer split with an explicit split and an NF4 base", "[placement][golden][nf4]") {
  const std::string dir = test::shared_path("golden/llama/mistral_gqa");
  if (dir.empty()) return;
  auto in = test::golden_inputs(dir);
  Decoder one = load_decoder(dir);
  Decoder two = load_decoder(dir);
  quantize_decoder_nf4(*one, true);
  quantize_decoder_nf4(*two, true);
  LayerSplit split = plan_layer_split(*two, {torch::Device("cpu"), torch::Device("cpu")}, {2, 1});
  CHECK((split.layers_per_stage == std::vector<int>{2, 1}));
  place_layers(*two, split);
  torch::NoGradGuard no_grad;
  CHECK(torch::equal(one->forward(in.ids, in.mask), two->forward(in.ids, in.mask)));
}

TEST_CASE("layer split with gradient checkpointing (training_forward) gives the single-device gradients", "[placement][golden]") {
  const std::string dir = test::shared_path("golden/llama/llama_mha");
  if (dir.empty()) return;
  auto in = test::golden_inputs(dir);
  std::vector<torch::Tensor> grads[2];
  for (int k = 0; k < 2; ++k) {
    Decoder d = load_decoder(dir);
    if (k == 1) place_layers(*d, plan_layer_split(*d, {torch::Device("cpu"), torch::Device("cpu")}));
    torch::manual_seed(4);
    std::vector<torch::Tensor> params;
    for (auto& [n, proj] : d->projections()) {
      proj->add_lora(4, 8.0);
      torch::NoGradGuard ng;
      proj->lora_B.normal_(0, 0.02);
      params.push_back(proj->lora_A);
      params.push_back(proj->lora_B);
    }
    torch::Tensor logits = training_forward(*d, in.plw_ids, {}, /*checkpoint_layers=*/true);
    weighted_next_token_loss(logits, in.plw_ids, in.plw_weights).backward();
    for (auto& p : params) grads[k].push_back(p.grad().clone());
  }
  for (size_t i = 0; i < grads[0].size(); ++i) CHECK(torch::equal(grads[0][i], grads[1][i]));
}
