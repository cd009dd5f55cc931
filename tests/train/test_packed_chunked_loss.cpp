// Padding-free packing and the chunked lm_head loss (issue 20): a packed batch gives the loss and
// gradients of its samples unpacked, and the chunked loss those of the plain [tokens x vocab] path,
// within 1e-5 relative in fp32 -- LoRA on lm_head included, prompt-loss weights 0 and 0.3.
#include <map>
#include <string>
#include <vector>

#include "libpsy/core/error.h"
#include "libpsy/io/hf_config.h"
#include "libpsy/nn/decoder.h"
#include "libpsy/nn/lora.h"
#include "libpsy/train/batch_plan.h"
#include "libpsy/train/chunked_head_loss.h"
#include "libpsy/train/collate.h"
#include "libpsy/train/train_forward.h"
#include "libpsy/train/weighted_loss.h"
#include "tests/io/test_device.h"
#include "tests/io/torch_catch.h"

using namespace psy;

namespace {

Decoder tiny_decoder(bool tied, uint64_t seed = 3) {
  DecoderConfig c = parse_decoder_config(
      std::string(R"({"model_type":"llama","architectures":["LlamaForCausalLM"],"vocab_size":61,"hidden_size":32,
          "intermediate_size":48,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
          "rms_norm_eps":1e-5,"max_position_embeddings":256,"torch_dtype":"float32","tie_word_embeddings":)") +
          (tied ? "true" : "false") + "}",
      "tiny");
  torch::manual_seed(seed);
  Decoder d(c, DecoderOptions{});
  d->init_random_weights();
  d->to(psy::test::test_device());
  return d;
}

// LoRA r 4 on every linear layer and lm_head, B random (PEFT's B = 0 would leave A's gradient 0),
// no dropout (the packed and unpacked runs must see the same network).
void add_random_lora(Decoder& d, bool on_lm_head = true) {
  LoraSpec spec;
  spec.r = 4;
  spec.alpha = 8;
  spec.dropout = 0.0;
  spec.targets = {"all-linear"};
  if (on_lm_head) spec.targets.push_back("lm_head");
  inject_lora(*d, spec, 7);
  torch::NoGradGuard g;
  for (auto& [name, p] : d->projections())
    if (p->has_lora()) p->lora_B.normal_(0, 0.05);
}

// Samples of different lengths: a prompt (weight plw) then a target (weight 1).
std::vector<TrainSequence> samples(float plw) {
  std::vector<TrainSequence> out;
  const int lengths[] = {9, 4, 13, 6, 2};
  for (int i = 0; i < 5; ++i) {
    TrainSequence s;
    for (int t = 0; t < lengths[i]; ++t) {
      s.ids.push_back(1 + (i * 11 + t * 7) % 60);
      s.weights.push_back(t < lengths[i] / 2 ? plw : 1.0f);
    }
    out.push_back(s);
  }
  return out;
}

struct LossAndGrads {
  double loss = 0;
  std::map<std::string, torch::Tensor> grads;
};

// One optimizer step's loss and gradients over micro-batches of sequences (the trainer's
// accumulation: every micro-batch divided by the whole step's denominator).
LossAndGrads step(Decoder& d, const std::vector<std::vector<const TrainSequence*>>& micro_batches, int64_t chunk,
                  bool checkpoint = false) {
  std::vector<Batch> batches;
  std::vector<torch::Tensor> weights;
  for (const auto& mb : micro_batches) {
    batches.push_back(collate(mb, 0));
    weights.push_back(batches.back().label_weights);
  }
  const double denom = step_denominator(weights, PlwNormalization::WeightSum);
  for (auto& p : d->parameters()) p.mutable_grad() = torch::Tensor();
  LossAndGrads out;
  const torch::Device dev = d->device();
  for (auto& b : batches) {
    torch::Tensor loss = training_loss(*d, b.input_ids.to(dev), b.attention_mask.to(dev), b.label_weights.to(dev),
                                       denom, checkpoint, chunk);
    loss.backward();
    out.loss += loss.item<double>();
  }
  for (const auto& item : d->named_parameters()) {
    const torch::Tensor& p = item.value();
    if (p.requires_grad() && p.grad().defined()) out.grads[item.key()] = p.grad().detach().to(torch::kCPU).clone();
  }
  return out;
}

double rel(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).norm().item<double>() /
         std::max(1e-30, b.to(torch::kFloat64).norm().item<double>());
}

void check_same(const LossAndGrads& a, const LossAndGrads& b, double tol = 1e-5) {
  CHECK(a.loss == Approx(b.loss).epsilon(tol));
  REQUIRE(a.grads.size() == b.grads.size());
  REQUIRE(!b.grads.empty());
  for (const auto& [name, g] : b.grads) {
    INFO(name);
    REQUIRE(a.grads.count(name) == 1);
    CHECK(g.abs().max().item<double>() > 0);  // every LoRA matrix actually receives a gradient
    CHECK(rel(a.grads.at(name), g) < tol);
  }
}

const int64_t kPlain = -1;

}  // namespace

TEST_CASE("a packed batch has the loss and gradients of its samples unpacked") {
  for (float plw : {0.0f, 0.3f}) {
    INFO("prompt_loss_weight " << plw);
    Decoder d = tiny_decoder(false);
    add_random_lora(d);
    auto data = samples(plw);
    std::vector<const TrainSequence*> all;
    for (const auto& s : data) all.push_back(&s);
    LossAndGrads unpacked = step(d, {all}, kPlain);
    // Two packed rows of different totals (the shorter one right-padded) in one micro-batch.
    TrainSequence p1 = pack_sequences({&data[0], &data[1], &data[4]}), p2 = pack_sequences({&data[2], &data[3]});
    Batch b = collate({&p1, &p2}, 0);
    CHECK(b.packed);
    CHECK(b.real_tokens == 34);
    LossAndGrads packed = step(d, {{&p1, &p2}}, kPlain);
    check_same(packed, unpacked);
    // The same through the chunked loss and with checkpointed layers.
    check_same(step(d, {{&p1, &p2}}, 5, /*checkpoint=*/true), unpacked);
    // One row holding everything.
    TrainSequence p_all = pack_sequences(all);
    check_same(step(d, {{&p_all}}, kPlain), unpacked);
    // train.padding_free (the default): each micro-batch's samples in one row, packed rows kept.
    Batch one_row = collate_padding_free({&p1, &data[2], &data[3]}, 0);
    CHECK(one_row.input_ids.sizes() == torch::IntArrayRef({1, 34}));
    CHECK(one_row.attention_mask.max().item<int64_t>() == 5);
    CHECK(one_row.label_weights.sum().item<double>() ==
          Approx(collate(all, 0).label_weights.sum().item<double>()));
  }
}

TEST_CASE("packed samples longer than a sliding window see the same window as unpacked") {
  DecoderConfig c = parse_decoder_config(
      R"({"model_type":"mistral","architectures":["MistralForCausalLM"],"vocab_size":61,"hidden_size":32,
          "intermediate_size":48,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
          "rms_norm_eps":1e-5,"max_position_embeddings":256,"sliding_window":4,"torch_dtype":"float32",
          "tie_word_embeddings":false})",
      "tiny-window");
  REQUIRE(c.layer_uses_window(0));
  torch::manual_seed(4);
  Decoder d(c, DecoderOptions{});
  d->init_random_weights();
  d->to(psy::test::test_device());
  add_random_lora(d);
  auto data = samples(0.3f);
  std::vector<const TrainSequence*> all;
  for (const auto& s : data) all.push_back(&s);
  LossAndGrads unpacked = step(d, {all}, kPlain);
  TrainSequence p_all = pack_sequences(all);
  check_same(step(d, {{&p_all}}, 3), unpacked);
}

TEST_CASE("packing without segments would mix samples: the packed rows' positions restart at 0") {
  Decoder d = tiny_decoder(false);
  auto data = samples(1.0f);
  TrainSequence p = pack_sequences({&data[0], &data[1]});
  CHECK((p.segment_starts == std::vector<size_t>{0, 9}));
  Batch b = collate({&p}, 0);
  CHECK(b.attention_mask[0][8].item<int64_t>() == 1);
  CHECK(b.attention_mask[0][9].item<int64_t>() == 2);
  CHECK(b.label_weights[0][9].item<float>() == 0.0f);  // a sample's first token is never a target
  auto segments = segments_from_ids(b.attention_mask);
  REQUIRE(segments.size() == 2);
  CHECK(segments[1].start == 9);
  CHECK(segments[1].length == 4);
  torch::Tensor pos = segment_positions(segments, 1, 13);
  CHECK(pos[0][9].item<int64_t>() == 0);
  CHECK(pos[0][12].item<int64_t>() == 3);
  // The second sample's logits packed equal its logits alone; a plain concatenation's differ.
  torch::NoGradGuard g;
  const torch::Device dev = d->device();
  torch::Tensor packed = training_forward(*d, b.input_ids.to(dev), b.attention_mask.to(dev), false).to(torch::kCPU);
  Batch alone = collate({&data[1]}, 0);
  torch::Tensor single = training_forward(*d, alone.input_ids.to(dev), alone.attention_mask.to(dev), false).to(torch::kCPU);
  CHECK(rel(packed[0].narrow(0, 9, 4), single[0]) < 1e-5);
  torch::Tensor concatenated =
      training_forward(*d, b.input_ids.to(dev), b.attention_mask.ne(0).to(torch::kLong).to(dev), false).to(torch::kCPU);
  CHECK(rel(concatenated[0].narrow(0, 9, 4), single[0]) > 1e-3);
}

TEST_CASE("the chunked lm_head loss equals the plain path, LoRA on lm_head included") {
  for (bool tied : {false, true}) {
    for (float plw : {0.0f, 0.3f}) {
      INFO("tied " << tied << ", prompt_loss_weight " << plw);
      Decoder d = tiny_decoder(tied);
      add_random_lora(d, /*on_lm_head=*/true);
      auto data = samples(plw);
      std::vector<const TrainSequence*> a = {&data[0], &data[1], &data[2]}, b = {&data[3], &data[4]};
      LossAndGrads plain = step(d, {a, b}, kPlain);
      CHECK(plain.grads.count("lm_head.lora_A") == 1);
      for (int64_t chunk : {1, 3, 64}) {
        INFO("chunk " << chunk);
        check_same(step(d, {a, b}, chunk), plain);
      }
    }
  }
}

TEST_CASE("the chunked loss trains lm_head alone, and full fine-tuning of a tied head") {
  // LoRA only on lm_head: the hidden states need no gradient, lm_head's adapter still gets one.
  Decoder d = tiny_decoder(false);
  LoraSpec spec;
  spec.r = 2;
  spec.alpha = 4;
  spec.targets = {"lm_head"};
  inject_lora(*d, spec, 1);
  {
    torch::NoGradGuard g;
    d->lm_head->lora_B.normal_(0, 0.05);
  }
  auto data = samples(0.3f);
  std::vector<const TrainSequence*> a = {&data[0], &data[2]};
  check_same(step(d, {a}, 4), step(d, {a}, kPlain));
  // Full fine-tuning with a tied embedding: the shared matrix gets both paths' gradients.
  Decoder full = tiny_decoder(true);
  for (auto& p : full->parameters()) p.requires_grad_(true);
  LossAndGrads plain = step(full, {a}, kPlain);
  CHECK(plain.grads.count("model.embed_tokens.weight") == 1);
  LossAndGrads chunked = step(full, {a}, 4);
  CHECK(chunked.loss == Approx(plain.loss).epsilon(1e-5));
  for (const auto& [name, g] : plain.grads) {
    INFO(name);
    CHECK(rel(chunked.grads.at(name), g) < 1e-5);
  }
}

TEST_CASE("weight-0 targets skip lm_head: a batch without weighted targets has loss 0 and no NaN") {
  Decoder d = tiny_decoder(false);
  add_random_lora(d);
  auto data = samples(0.0f);
  TrainSequence prompt_only = data[0];
  for (auto& w : prompt_only.weights) w = 0;
  Batch b = collate({&prompt_only}, 0);
  const torch::Device dev = d->device();
  torch::Tensor h = training_hidden(*d, b.input_ids.to(dev), b.attention_mask.to(dev), false);
  torch::Tensor s = chunked_head_weighted_ce_sum(d->lm_head, h, b.input_ids.to(dev), b.label_weights.to(dev), 4);
  CHECK(s.item<double>() == 0.0);
  s.backward();
  CHECK(auto_chunk_tokens(32000) == 524);
  CHECK(auto_chunk_tokens(151936) == 110);
  CHECK(auto_chunk_tokens(10) == 4096);
}

TEST_CASE("a sample longer than the packing limit is refused with its label, never packed across it") {
  std::vector<size_t> lengths = {5, 12, 3};
  try {
    plan_packs(lengths, 8, 1, {"dlg 1 turn 2", "dlg 7 turn 4", "dlg 9 turn 1"});
    FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK(m.find("dlg 7 turn 4") != std::string::npos);
    CHECK(m.find("12 tokens") != std::string::npos);
    CHECK(m.find("8") != std::string::npos);
  }
  CHECK_THROWS_AS(plan_packs(lengths, 8, 1), Error);  // "sample #1" without labels
  CHECK_NOTHROW(plan_packs(lengths, 12, 1));
  // collate refuses segment offsets that do not describe the sequence.
  TrainSequence bad{{1, 2, 3}, {0, 1, 1}, {0, 5}};
  CHECK_THROWS_AS(collate({&bad}, 0), Error);
}
