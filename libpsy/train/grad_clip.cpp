#include "libpsy/train/grad_clip.h"

#include <algorithm>

namespace psy {

namespace {
torch::Tensor total_norm_tensor(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> norms;
  for (const auto& p : params) {
    if (p.grad().defined()) norms.push_back(p.grad().detach().to(torch::kFloat32).norm(2).to(torch::kCPU));
  }
  if (norms.empty()) return torch::zeros({});
  return torch::stack(norms).norm(2);
}
}  // namespace

double global_grad_norm(const std::vector<torch::Tensor>& params) {
  return total_norm_tensor(params).item<double>();
}

ClipResult clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  torch::Tensor total = total_norm_tensor(params);
  ClipResult r;
  r.total_norm = total.item<double>();
  if (max_norm <= 0) return r;
  // Same arithmetic as torch: fp32 coefficient, clamped to 1.
  torch::Tensor coef = torch::clamp(max_norm / (total + 1e-6), c10::nullopt, 1.0);
  r.clip_coef = coef.item<double>();
  for (const auto& p : params) {
    if (p.grad().defined()) p.grad().mul_(coef.to(p.grad().device(), p.grad().scalar_type()));
  }
  return r;
}

}  // namespace psy
