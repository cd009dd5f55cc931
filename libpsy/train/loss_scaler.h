// Dynamic loss scaling for fp16 training (as torch.cuda.amp.GradScaler): the loss is multiplied
// by `scale` before backward; before the optimizer step the gradients are divided by it. A
// step whose gradients hold inf/NaN is skipped and the scale halved; after `growth_interval`
// good steps in a row the scale doubles. Disabled (scale 1, never skips) for fp32/bf16.
#pragma once
#include <vector>

#include <torch/torch.h>

namespace psy {

struct LossScaler {
  bool enabled = false;
  double scale = 65536.0;
  long growth_interval = 2000;
  long good_steps = 0;

  torch::Tensor scale_loss(const torch::Tensor& loss) const { return enabled ? loss * scale : loss; }
  // Unscales the gradients in place. Returns false (and lowers the scale) when the step must be
  // skipped because a gradient is not finite; true otherwise (and maybe raises the scale).
  bool unscale_and_check(const std::vector<torch::Tensor>& params);
};

}  // namespace psy
