#include "libpsy/train/adamw.h"

#include <cmath>

#include "libpsy/core/error.h"

namespace psy {

AdamW::AdamW(std::vector<torch::Tensor> params, AdamWOptions options, std::vector<bool> decay)
    : params_(std::move(params)), options_(options), decay_(std::move(decay)) {
  if (decay_.empty()) decay_.assign(params_.size(), true);
  if (decay_.size() != params_.size())
    throw Error("AdamW: " + expected_found(std::to_string(params_.size()) + " decay flags",
                                           std::to_string(decay_.size())));
  for (const auto& p : params_) {
    exp_avg_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    exp_avg_sq_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
  }
}

void AdamW::zero_grad() {
  for (auto& p : params_) {
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
  }
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  ++step_;
  const double b1 = options_.beta1, b2 = options_.beta2;
  const double bias1 = 1.0 - std::pow(b1, static_cast<double>(step_));
  const double bias2 = 1.0 - std::pow(b2, static_cast<double>(step_));
  const double step_size = lr / bias1;
  const double bias2_sqrt = std::sqrt(bias2);
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i];
    if (!p.grad().defined()) continue;
    torch::Tensor g = p.grad();
    if (decay_[i] && options_.weight_decay != 0) p.mul_(1.0 - lr * options_.weight_decay);
    exp_avg_[i].mul_(b1).add_(g, 1.0 - b1);
    exp_avg_sq_[i].mul_(b2).addcmul_(g, g, 1.0 - b2);
    torch::Tensor denom = (exp_avg_sq_[i].sqrt() / bias2_sqrt).add_(options_.eps);
    p.addcdiv_(exp_avg_[i], denom, -step_size);
  }
}

std::map<std::string, torch::Tensor> AdamW::state_tensors() const {
  std::map<std::string, torch::Tensor> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out["exp_avg." + std::to_string(i)] = exp_avg_[i];
    out["exp_avg_sq." + std::to_string(i)] = exp_avg_sq_[i];
  }
  return out;
}

void AdamW::load_state(const std::map<std::string, torch::Tensor>& state, int64_t steps_taken) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    for (auto* which : {&exp_avg_, &exp_avg_sq_}) {
      std::string key = (which == &exp_avg_ ? "exp_avg." : "exp_avg_sq.") + std::to_string(i);
      auto it = state.find(key);
      if (it == state.end()) throw Error("optimizer state: missing tensor '" + key + "'");
      if (it->second.sizes() != (*which)[i].sizes())
        throw Error("optimizer state: tensor '" + key + "' has the wrong shape (does the checkpoint match the recipe?)");
      (*which)[i].copy_(it->second);
    }
  }
  step_ = steps_taken;
}

}  // namespace psy
