#include "libpsy/nn/swiglu.h"

#include <torch/csrc/autograd/custom_function.h>

#include "libpsy/core/error.h"

namespace psy {

namespace {

struct SwiGLU : torch::autograd::Function<SwiGLU> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& gate,
                               const torch::Tensor& up) {
    ctx->save_for_backward({gate, up});
    return swiglu(gate, up);  // autograd is off inside forward
  }

  // d up = grad * silu(g); d gate = grad * up * sigmoid(g) * (1 + g * (1 - sigmoid(g))).
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor g = saved[0].to(torch::kFloat32), u = saved[1].to(torch::kFloat32);
    const torch::Tensor grad = grad_out[0].to(torch::kFloat32);
    torch::Tensor sig = torch::sigmoid(g);
    torch::Tensor d_up = g * sig;  // silu(g)
    d_up.mul_(grad);
    // sigmoid(g) * (1 + g * (1 - sigmoid(g))) * grad * up, in place on one temporary
    torch::Tensor d_gate = (1 - sig).mul_(g).add_(1).mul_(sig).mul_(grad).mul_(u);
    return {d_gate.to(saved[0].scalar_type()), d_up.to(saved[1].scalar_type())};
  }
};

}  // namespace

torch::Tensor swiglu(const torch::Tensor& gate, const torch::Tensor& up) {
  if (gate.sizes() != up.sizes())
    throw Error("swiglu: " + expected_found("gate and up of one shape",
                                            "gate " + c10::str(gate.sizes()) + ", up " + c10::str(up.sizes())));
  if (torch::GradMode::is_enabled() && (gate.requires_grad() || up.requires_grad())) return SwiGLU::apply(gate, up);
  // The result's buffer first, then no temporary at all: a temporary freed below a tensor kept for
  // backward leaves a hole in the heap that later allocations rarely fit (peak RSS, bench/README.md).
  torch::Tensor out = torch::silu(gate);
  return out.mul_(up);
}

}  // namespace psy
