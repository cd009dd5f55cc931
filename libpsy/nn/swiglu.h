// SwiGLU, silu(gate) * up, the decoder MLP's activation, as one autograd Function that saves
// only gate and up for backward (silu(gate) is recomputed there): the plain composition
// torch::silu(gate) * up also keeps silu(gate), one more [tokens x intermediate] tensor per layer
// until backward. Same output as the composition; gradients equal to fp32 rounding
// (computed in fp32 for bf16/fp16 inputs, returned in their dtype).
#pragma once
#include <torch/torch.h>

namespace psy {

// gate, up: the same shape (any dtype/device). Without autograd it is just silu(gate) * up.
torch::Tensor swiglu(const torch::Tensor& gate, const torch::Tensor& up);

}  // namespace psy
