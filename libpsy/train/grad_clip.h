// Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_: the total norm is
// the L2 norm of the per-tensor norms; every gradient is multiplied by
// min(1, max_norm / (total_norm + 1e-6)).
#pragma once
#include <vector>

#include <torch/torch.h>

namespace psy {

struct ClipResult {
  double total_norm = 0;  // before clipping
  double clip_coef = 1;   // the factor applied (1 when not clipped or max_norm <= 0)
};

// Total gradient norm of the parameters that have a gradient.
double global_grad_norm(const std::vector<torch::Tensor>& params);

// Clips in place when max_norm > 0; always reports the norm.
ClipResult clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace psy
