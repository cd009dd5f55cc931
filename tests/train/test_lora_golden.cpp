// PLW loss, LoRA gradients and two end-to-end AdamW steps against ../shared/golden/llama,
// with the README's tolerances; gradient checkpointing must give the same gradients.
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/io/torch_catch.h"
#include "tests/io/test_device.h"
#include "tests/test_support.h"

#include "libpsy/io/safetensors.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/lora.h"
#include "libpsy/nn/peft_adapter_io.h"
#include "libpsy/train/adamw.h"
#include "libpsy/train/grad_clip.h"
#include "libpsy/train/train_forward.h"
#include "libpsy/train/weighted_loss.h"

using namespace psy;

namespace {

const char* kModels[] = {"llama_mha", "mistral_gqa", "llama_mqa_bf16_sharded"};

std::map<std::string, torch::Tensor> load_all(const std::string& path) {
  SafetensorsReader r(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& n : r.names()) out[n] = r.load(n, torch::kCPU, torch::kFloat32);
  return out;
}

// Label-aligned weights of one padded sequence: token j >= 1 weighs prompt_weight when it is
// inside the prompt, 1 in the completion, 0 on padding.
torch::Tensor plw_weights(int64_t n, int64_t length, int64_t prompt_length, float prompt_weight) {
  torch::Tensor w = torch::zeros({1, n});
  for (int64_t j = 1; j < length; ++j) w[0][j] = j < prompt_length ? prompt_weight : 1.0f;
  return w;
}

torch::Tensor ids_tensor(const nlohmann::json& j) {
  std::vector<int64_t> v = j.get<std::vector<int64_t>>();
  return torch::tensor(v, torch::kLong).unsqueeze(0);
}

struct Golden {
  std::string dir;
  nlohmann::json expected, inputs;
  Decoder decoder{nullptr};
};

Golden load_golden(const std::string& model) {
  Golden g;
  g.dir = test::shared_path("golden/llama/" + model);
  if (g.dir.empty()) return g;
  g.expected = nlohmann::json::parse(std::ifstream(g.dir + "/expected.json"));
  g.inputs = nlohmann::json::parse(std::ifstream(g.dir + "/inputs.json"));
  DecoderOptions opt;
  opt.dtype = torch::kFloat32;  // BF16 files are upcast exactly: fp32 tolerances apply
  opt.device = test::test_device();
  g.decoder = load_decoder(g.dir, opt);
  load_peft_adapter(*g.decoder, g.dir + "/adapter");
  return g;
}

torch::Tensor plw_loss(Golden& g, float prompt_weight, bool checkpoint) {
  const auto& p = g.inputs["plw"];
  torch::Tensor ids = ids_tensor(p["input_ids"]), mask = ids_tensor(p["attention_mask"]);
  torch::Tensor w = plw_weights(ids.size(1), p["length"], p["prompt_length"], prompt_weight);
  const torch::Device dev = test::test_device();
  torch::Tensor logits = training_forward(*g.decoder, ids.to(dev), mask.to(dev), checkpoint);
  return weighted_next_token_loss(logits, ids.to(dev), w.to(dev));
}

}  // namespace

TEST_CASE("PLW losses (0.0, 0.1, 1.0 and batch-pooled) match the golden values") {
  torch::NoGradGuard no_grad;
  for (const char* model : kModels) {
    Golden g = load_golden(model);
    if (g.dir.empty()) return;
    INFO(model);
    const auto& loss = g.expected["loss"];
    for (float pw : {0.0f, 0.1f, 1.0f}) {
      std::string key = pw == 0.0f ? "plw_0.0" : pw == 1.0f ? "plw_1.0" : "plw_0.1";
      INFO(key);
      CHECK(std::abs(plw_loss(g, pw, false).item<double>() - loss[key].get<double>()) < 1e-5);
    }
    const auto& pb = g.inputs["plw_batch"];
    torch::Tensor ids = torch::tensor(pb["input_ids"].get<std::vector<std::vector<int64_t>>>()[0]).unsqueeze(0);
    std::vector<torch::Tensor> rows, masks, ws;
    for (int b = 0; b < 2; ++b) {
      rows.push_back(torch::tensor(pb["input_ids"][b].get<std::vector<int64_t>>(), torch::kLong));
      masks.push_back(torch::tensor(pb["attention_mask"][b].get<std::vector<int64_t>>(), torch::kLong));
    }
    torch::Tensor bids = torch::stack(rows).to(test::test_device()), bmask = torch::stack(masks).to(test::test_device());
    torch::Tensor logits = g.decoder->forward(bids, bmask);
    for (float pw : {0.0f, 0.1f, 1.0f}) {
      torch::Tensor w = torch::cat({plw_weights(bids.size(1), pb["lengths"][0], pb["prompt_lengths"][0], pw),
                                    plw_weights(bids.size(1), pb["lengths"][1], pb["prompt_lengths"][1], pw)});
      std::string key = pw == 0.0f ? "batch_pooled_plw_0.0" : pw == 1.0f ? "batch_pooled_plw_1.0" : "batch_pooled_plw_0.1";
      INFO(key);
      CHECK(std::abs(weighted_next_token_loss(logits, bids, w.to(test::test_device())).item<double>() - loss[key].get<double>()) < 1e-5);
    }
  }
}

TEST_CASE("LoRA gradients and two AdamW steps match the golden, with and without checkpointing") {
  for (const char* model : kModels) {
    for (bool checkpoint : {false, true}) {
      Golden g = load_golden(model);
      if (g.dir.empty()) return;
      INFO(model << (checkpoint ? " (gradient checkpointing)" : ""));
      auto named = lora_parameters(*g.decoder);
      std::vector<torch::Tensor> params;
      for (auto& [n, t] : named) params.push_back(t);
      auto grads1 = load_all(g.dir + "/adapter_grads.safetensors");
      auto step1 = load_all(g.dir + "/adapter_adamw_step1.safetensors");
      auto step2 = load_all(g.dir + "/adapter_adamw_step2.safetensors");
      REQUIRE(named.size() == grads1.size());
      const auto& hyper = g.expected["adamw"]["hyper"];
      AdamWOptions opt;
      opt.lr = hyper["lr"];
      opt.beta1 = hyper["betas"][0];
      opt.beta2 = hyper["betas"][1];
      opt.eps = hyper["eps"];
      opt.weight_decay = hyper["weight_decay"];
      AdamW adamw(params, opt);
      std::map<std::string, torch::Tensor> clipped1;
      for (int step = 0; step < 2; ++step) {
        adamw.zero_grad();
        torch::Tensor loss = plw_loss(g, 0.1f, checkpoint);
        const auto& st = g.expected["adamw"]["steps"][step];
        CHECK(std::abs(loss.item<double>() - st["loss_before_step"].get<double>()) < 1e-5);
        loss.backward();
        if (step == 0) {
          double worst = 0;
          for (auto& [n, t] : named) {
            CHECK(torch::allclose(t.grad().cpu(), grads1.at(n), 1e-3, 2e-5));
            worst = std::max(worst, (t.grad().cpu() - grads1.at(n)).abs().max().item<double>());
          }
          WARN(model << (checkpoint ? " ckpt" : "") << ": max |grad diff| " << worst);
          CHECK(worst < 2e-5);
        }
        ClipResult clip = clip_grad_norm(params, hyper["clip_max_norm"]);
        CHECK(clip.total_norm == Approx(st["grad_total_norm_before_clip"].get<double>()).epsilon(1e-5));
        CHECK(clip.clip_coef == Approx(st["clip_coef"].get<double>()).epsilon(1e-5));
        if (step == 0) {
          for (auto& [n, t] : named) clipped1[n] = grads1.at(n) * st["clip_coef"].get<double>();
        }
        adamw.step();
        auto& want = step == 0 ? step1 : step2;
        int64_t total = 0, loose = 0;
        double worst_all = 0, worst_well = 0;
        for (auto& [n, t] : named) {
          torch::Tensor diff = (t.detach().cpu() - want.at(n)).abs();
          torch::Tensor well = clipped1.at(n).abs() >= 1e-6;
          total += diff.numel();
          loose += (diff > 5e-6).sum().item<int64_t>();
          worst_all = std::max(worst_all, diff.max().item<double>());
          worst_well = std::max(worst_well, diff.masked_select(well).max().item<double>());
        }
        WARN(model << (checkpoint ? " ckpt" : "") << " AdamW step " << step + 1 << ": max |diff| " << worst_all << ", well-conditioned " << worst_well << ", "
                     << loose << " of " << total << " above 5e-6");
        CHECK(worst_all <= 2.5e-3);
        CHECK(worst_well <= 5e-6);
        CHECK(loose <= total / 1000);
      }
      CHECK(std::abs(plw_loss(g, 0.1f, checkpoint).item<double>() -
                     g.expected["adamw"]["loss_after_step2"].get<double>()) < 1e-4);
    }
  }
}

TEST_CASE("LoRA injection: targets, all-linear, seeded PEFT init, B zero, errors name the valid modules") {
  std::string dir = test::shared_path("golden/llama/llama_mha");
  if (dir.empty()) return;
  Decoder d = load_decoder(dir);
  LoraSpec spec;
  spec.r = 4;
  spec.alpha = 8;
  spec.targets = {"all-linear"};
  auto paths = inject_lora(*d, spec, 66);
  CHECK(paths.size() == 2 * 7);  // lm_head is not part of all-linear
  auto a = lora_parameters(*d);
  CHECK(a.size() == 2 * paths.size());
  CHECK(a[0].first == "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
  CHECK(a[1].second.abs().sum().item<double>() == 0.0);  // B = 0: the model is unchanged
  double bound = 1.0 / std::sqrt(64.0);
  CHECK(a[0].second.abs().max().item<double>() <= bound);
  CHECK(a[0].second.abs().max().item<double>() > 0.8 * bound);
  Decoder d2 = load_decoder(dir);
  inject_lora(*d2, spec, 66);
  CHECK(torch::equal(lora_parameters(*d2)[0].second, a[0].second));
  spec.targets = {"q_proj", "lm_head"};
  Decoder d3 = load_decoder(dir);
  CHECK(inject_lora(*d3, spec, 1).size() == 3);
  spec.targets = {"qkv_proj"};
  CHECK_THROWS_WITH(inject_lora(*d3, spec, 1), Catch::Contains("valid: all-linear") && Catch::Contains("gate_proj"));
  spec.targets = {"q_proj"};
  spec.rslora = true;
  CHECK(lora_scaling(spec) == Approx(8.0 / 2.0));
}

TEST_CASE("bf16 base with fp32 LoRA: loss within the README's bf16 tolerance, fp32 gradients") {
  std::string dir = test::shared_path("golden/llama/llama_mha");
  if (dir.empty()) return;
  nlohmann::json expected = nlohmann::json::parse(std::ifstream(dir + "/expected.json"));
  nlohmann::json inputs = nlohmann::json::parse(std::ifstream(dir + "/inputs.json"));
  DecoderOptions opt;
  opt.dtype = torch::kBFloat16;
  opt.device = test::test_device();
  Decoder d = load_decoder(dir, opt);
  load_peft_adapter(*d, dir + "/adapter");
  const auto& p = inputs["plw"];
  torch::Tensor ids = ids_tensor(p["input_ids"]).to(opt.device), mask = ids_tensor(p["attention_mask"]).to(opt.device);
  torch::Tensor w = plw_weights(ids.size(1), p["length"], p["prompt_length"], 0.1f).to(opt.device);
  for (bool checkpoint : {false, true}) {
    torch::Tensor loss = weighted_next_token_loss(training_forward(*d, ids, mask, checkpoint), ids, w);
    CHECK(std::abs(loss.item<double>() - expected["loss"]["plw_0.1"].get<double>()) < 5e-2);
    loss.backward();
    for (auto& [n, t] : lora_parameters(*d)) {
      CHECK(t.scalar_type() == torch::kFloat32);
      CHECK(t.grad().scalar_type() == torch::kFloat32);
      CHECK(torch::isfinite(t.grad()).all().item<bool>());
      t.mutable_grad() = torch::Tensor();
    }
  }
}
