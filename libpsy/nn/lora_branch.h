// The LoRA branch of a projection before its scaling: (dropout(x) A^T) B^T. The projection adds it
// to the base product times alpha / r (projection.cpp).
//
// On the CPU in training with dropout, one autograd Function computes it with a hashed dropout
// mask (hashed_dropout.h) and keeps only x (which the projection's other branch and its sibling
// projections share), the seed and the small [tokens x r] product for backward. The composition
// torch::dropout -> linear -> linear keeps, per projection, a float mask and the dropped input
// (8 bytes per input element) and draws a random number per element serially. Gradients equal
// the composition's with the same mask (tests/nn/test_lora_branch.cpp).
//
// Everywhere else (eval mode, dropout 0, CUDA) it is the composition, in `compute` dtype: on CUDA
// the activations' (bf16 tensor cores), on the CPU fp32 (the adapter's own dtype).
#pragma once
#include <torch/torch.h>

namespace psy {

// x [..., in], A [r, in], B [out, r] (fp32, the trainable adapter). Returns [..., out] in the
// compute dtype: x's on CUDA, A's on the CPU. `training` applies dropout (probability p).
torch::Tensor lora_branch(const torch::Tensor& x, const torch::Tensor& A, const torch::Tensor& B, double p,
                          bool training);

// The seed the next CPU dropout of lora_branch() would draw from LibTorch's default CPU generator
// (for tests; drawing advances the generator as lora_branch does).
uint64_t draw_dropout_seed();

}  // namespace psy
