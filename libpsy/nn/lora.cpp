#include "libpsy/nn/lora.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <ATen/CPUGeneratorImpl.h>

#include "libpsy/core/error.h"
#include "libpsy/nn/peft_adapter_io.h"

namespace psy {

namespace {
std::string last_component(const std::string& path) {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}
}  // namespace

double lora_scaling(const LoraSpec& spec) {
  return spec.rslora ? spec.alpha / std::sqrt(static_cast<double>(spec.r)) : spec.alpha / static_cast<double>(spec.r);
}

std::vector<std::string> lora_target_paths(const DecoderImpl& decoder, const std::vector<std::string>& targets) {
  std::set<std::string> wanted(targets.begin(), targets.end());
  const bool all_linear = wanted.count("all-linear") > 0;
  std::set<std::string> available, matched;
  std::vector<std::string> out;
  for (const auto& [path, proj] : decoder.projections()) {
    std::string name = last_component(path);
    available.insert(name);
    if (wanted.count(name) || (all_linear && name != "lm_head")) {
      out.push_back(path);
      matched.insert(name);
    }
  }
  for (const auto& t : wanted) {
    if (t == "all-linear" || matched.count(t)) continue;
    std::string list = "all-linear";
    for (const auto& a : available) list += ", " + a;
    throw Error("lora.targets: '" + t + "' matches no projection of the model (valid: " + list + ")");
  }
  if (targets.empty()) throw Error("lora.targets: " + expected_found("at least one module name", "an empty list"));
  return out;
}

std::vector<std::string> inject_lora(DecoderImpl& decoder, const LoraSpec& spec, uint64_t seed) {
  if (spec.r < 1) throw Error("lora.r: " + expected_found("at least 1", std::to_string(spec.r)));
  if (spec.dropout < 0 || spec.dropout >= 1)
    throw Error("lora.dropout: " + expected_found("a value in [0, 1)", std::to_string(spec.dropout)));
  std::vector<std::string> paths = lora_target_paths(decoder, spec.targets);
  std::set<std::string> selected(paths.begin(), paths.end());
  // PEFT's init of A: kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(in), 1/sqrt(in)); B = 0.
  auto gen = at::detail::createCPUGenerator(seed);
  torch::NoGradGuard no_grad;
  for (auto& [path, proj] : decoder.projections()) {
    if (!selected.count(path)) continue;
    const int64_t in = proj->in_features(), out = proj->out_features();
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    torch::Tensor A = torch::empty({spec.r, in}, torch::kFloat32).uniform_(-bound, bound, gen);
    torch::Tensor B = torch::zeros({out, spec.r}, torch::kFloat32);
    proj->set_lora(A, B, spec.alpha, spec.dropout, spec.rslora);
  }
  return paths;
}

std::vector<std::pair<std::string, torch::Tensor>> lora_parameters(const DecoderImpl& decoder) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& [path, proj] : decoder.projections()) {
    if (!proj->has_lora()) continue;
    out.emplace_back(peft_tensor_key(path, "lora_A"), proj->lora_A);
    out.emplace_back(peft_tensor_key(path, "lora_B"), proj->lora_B);
  }
  return out;
}

std::vector<std::pair<std::string, torch::Tensor>> enable_full_training(DecoderImpl& decoder) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& item : decoder.named_parameters(/*recurse=*/true)) {
    item.value().set_requires_grad(true);
    out.emplace_back(item.key(), item.value());
  }
  return out;
}

int64_t count_parameters(const std::vector<std::pair<std::string, torch::Tensor>>& params) {
  int64_t n = 0;
  for (const auto& p : params) n += p.second.numel();
  return n;
}

}  // namespace psy
