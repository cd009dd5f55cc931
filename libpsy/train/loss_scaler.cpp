#include "libpsy/train/loss_scaler.h"

namespace psy {

bool LossScaler::unscale_and_check(const std::vector<torch::Tensor>& params) {
  if (!enabled) return true;
  torch::NoGradGuard no_grad;
  bool finite = true;
  for (const auto& p : params) {
    if (!p.grad().defined()) continue;
    p.grad().div_(scale);
    if (!torch::isfinite(p.grad()).all().item<bool>()) finite = false;
  }
  if (!finite) {
    scale = std::max(1.0, scale / 2);
    good_steps = 0;
    return false;
  }
  if (++good_steps >= growth_interval) {
    scale *= 2;
    good_steps = 0;
  }
  return true;
}

}  // namespace psy
