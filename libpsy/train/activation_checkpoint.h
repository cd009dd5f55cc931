// Gradient (activation) checkpointing: run a block without keeping its activations, and run
// it again in backward to get them. A custom torch::autograd::Function:
//   forward:  y = fn(x) under NoGradGuard; saves only x and the RNG state;
//   backward: re-runs fn on a detached copy of x with grad enabled and the saved RNG state
//             (so dropout masks repeat), back-propagates the incoming gradient through it --
//             which accumulates into the block's parameters (LoRA or full) -- and returns dx.
// Gradients are identical to running fn directly. Works when x itself needs no gradient
// (frozen embeddings in LoRA training): a zero-size anchor that requires grad keeps the
// node in the graph.
#pragma once
#include <functional>

#include <torch/torch.h>

namespace psy {

using BlockFn = std::function<torch::Tensor(const torch::Tensor&)>;

// y = fn(x), recomputed in backward. With grad mode off it simply calls fn.
torch::Tensor checkpointed(const BlockFn& fn, const torch::Tensor& x);

}  // namespace psy
