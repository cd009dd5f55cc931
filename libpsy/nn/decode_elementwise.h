// RMSNorm and RoPE for the few rows of a decode step on the CPU, each in one pass of plain
// loops. LibTorch spells each of them as 6-9 small ops (casts, pow, mean, rsqrt, cat, neg, ...),
// and at one row per sequence a decode step of a 30-layer model ran about a thousand of them, a
// fixed cost per op larger than the arithmetic (bench/README.md, issue 19). The results equal the
// LibTorch compositions they replace (libpsy/nn/rms_norm.cpp, attention.cpp's apply_rope): the
// same fp32 operations in the same order per element, rounded once to the input's dtype; only
// RMSNorm's sum of squares is added in another order (fp32 rounding).
#pragma once

#include <torch/torch.h>

namespace psy {

// The most rows (all dimensions but the last, multiplied) these kernels take; prefill and training
// go through LibTorch, which splits large tensors over the threads.
constexpr int64_t kDecodeElementwiseMaxRows = 256;  // e.g. 8 sequences x 32 query heads

// True for a CPU tensor of fp32 or bf16 with at most kDecodeElementwiseMaxRows rows, while no
// gradient is being recorded for it.
bool decode_elementwise_applies(const torch::Tensor& x);

// x * rsqrt(mean(x^2) + eps) * weight over the last dimension, in fp32, rounded to x's dtype.
torch::Tensor rms_norm_rows(const torch::Tensor& x, const torch::Tensor& weight, double eps);

// Rotate-half RoPE over the whole last dimension of x [B, H, T, D] with cos/sin [B, 1, T, D] fp32:
// out = x * cos + rotate_half(x) * sin in fp32, rounded to x's dtype. Returns undefined when the
// shapes are not that (a partial rotation, GLM's interleaved pairs): the caller falls back.
torch::Tensor rope_rows(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

// The kernels behind them on raw rows, for a caller that keeps its own buffers (decode_layers_cpu.h).
// rms_norm_kernel: y = rms_norm(x) for `rows` rows of n; T float with W float, or T BFloat16 with W
// BFloat16 or float.
template <typename T, typename W>
void rms_norm_kernel(const T* x, const W* w, int64_t rows, int64_t n, float eps, T* y);
// rope_kernel: x, y [B, H, T, d] as rows of d; cos, sin [B, 1, T, d]; heads_per_angle = H. T float
// or BFloat16.
template <typename T>
void rope_kernel(const T* x, const float* cos, const float* sin, int64_t rows, int64_t heads_per_angle, int64_t tokens,
                 int64_t d, T* y);

}  // namespace psy
