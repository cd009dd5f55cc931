// AdamW + clipping, "optimizer only", against ../shared/golden/llama (README: atol 2e-7).
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/io/torch_catch.h"
#include "tests/test_support.h"

#include "libpsy/io/safetensors.h"
#include "libpsy/train/adamw.h"
#include "libpsy/train/grad_clip.h"

using namespace psy;

namespace {
std::map<std::string, torch::Tensor> load_all(const std::string& path) {
  SafetensorsReader r(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& n : r.names()) out[n] = r.load(n, torch::kCPU, torch::kFloat32);
  return out;
}
}  // namespace

TEST_CASE("AdamW with clipping matches the golden two steps given the golden gradients") {
  for (const char* model : {"llama_mha", "mistral_gqa", "llama_mqa_bf16_sharded"}) {
    std::string dir = test::shared_path(std::string("golden/llama/") + model);
    if (dir.empty()) return;
    INFO(model);
    nlohmann::json expected = nlohmann::json::parse(std::ifstream(dir + "/expected.json"));
    auto adapter = load_all(dir + "/adapter/adapter_model.safetensors");
    auto g1 = load_all(dir + "/adapter_grads.safetensors");
    auto g2 = load_all(dir + "/adapter_grads_step2.safetensors");
    auto s1 = load_all(dir + "/adapter_adamw_step1.safetensors");
    auto s2 = load_all(dir + "/adapter_adamw_step2.safetensors");
    std::vector<std::string> names;
    std::vector<torch::Tensor> params;
    for (auto& [n, t] : adapter) {
      names.push_back(n);
      params.push_back(t.clone().set_requires_grad(true));
    }
    const auto& hyper = expected["adamw"]["hyper"];
    AdamWOptions opt;
    opt.lr = hyper["lr"];
    opt.beta1 = hyper["betas"][0];
    opt.beta2 = hyper["betas"][1];
    opt.eps = hyper["eps"];
    opt.weight_decay = hyper["weight_decay"];
    AdamW adamw(params, opt);
    for (int step = 0; step < 2; ++step) {
      auto& grads = step == 0 ? g1 : g2;
      auto& want = step == 0 ? s1 : s2;
      for (size_t i = 0; i < params.size(); ++i) params[i].mutable_grad() = grads.at(names[i]).clone();
      ClipResult clip = clip_grad_norm(params, hyper["clip_max_norm"]);
      const auto& st = expected["adamw"]["steps"][step];
      CHECK(clip.total_norm == Approx(st["grad_total_norm_before_clip"].get<double>()).epsilon(1e-5));
      CHECK(clip.clip_coef == Approx(st["clip_coef"].get<double>()).epsilon(1e-5));
      adamw.step();
      double worst = 0;
      for (size_t i = 0; i < params.size(); ++i)
        worst = std::max(worst, (params[i].detach() - want.at(names[i])).abs().max().item<double>());
      INFO("step " << step + 1 << " max |diff| " << worst);
      CHECK(worst <= 2e-7);
    }
  }
}

TEST_CASE("AdamW state round-trips: a restored optimizer continues identically") {
  torch::manual_seed(1);
  auto make = [] { return torch::randn({4, 3}).set_requires_grad(true); };
  torch::Tensor p1 = make(), p2 = p1.detach().clone().set_requires_grad(true);
  AdamW a({p1}, AdamWOptions{});
  torch::Tensor g = torch::randn({4, 3});
  p1.mutable_grad() = g.clone();
  a.step(1e-2);
  AdamW b({p2}, AdamWOptions{});
  {
    torch::NoGradGuard ng;
    p2.copy_(p1);
  }
  b.load_state(a.state_tensors(), a.steps_taken());
  p1.mutable_grad() = g * 0.5;
  p2.mutable_grad() = g * 0.5;
  a.step(1e-2);
  b.step(1e-2);
  CHECK(torch::equal(p1, p2));
}
