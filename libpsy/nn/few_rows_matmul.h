// x W^T (+ bias) for a handful of rows of x on the CPU, without autograd: decoding, where each
// sequence contributes one row per step, and prefills of up to 128 tokens. A general matrix product
// first copies (packs) the whole weight matrix and then reads it; here each weight row is read once
// from memory and used for every row of x while it is in the cache, so a decode step costs one pass
// over the weights.
//   fp32 weights: AVX-512F, or AVX2 + FMA.
//   bf16 weights: AVX-512 BF16 (two bf16 products per fp32 lane, VDPBF16PS), or AVX2 widening.
//   bf16 weights against fp32 x (exact copies of fp32 weights, exact_bf16.h): each weight widened
//   to fp32, then the fp32 kernel's multiply-adds in its order.
// Products accumulate in fp32 (as LibTorch's bf16 matmuls do); the result is rounded to x's dtype.
// The summation order differs from OpenBLAS's, so results agree to fp32 (or bf16) rounding, not bits.
// With AVX-512 a row of x gets the same sums, bit for bit, whether it comes with 4 other rows or
// with 127 (decode steps and prefills agree); one to four rows add in another order.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace psy {

// Up to this many rows of x (decoding: one row per sequence) each weight row is read from memory
// once and serves every row of x while it is in L1. More rows (a prompt's prefill) go in blocks of
// weight rows that stay in L2 while groups of x rows pass over them.
constexpr int64_t kFewRowsMatmulDecodeRows = 16;

// The most rows of x the kernels take with AVX-512 (with AVX2, kFewRowsMatmulDecodeRows). Up to it
// they beat OpenBLAS, which packs the weights on every call: 1.1-2.1x for SmolLM2's projections at
// 17-96 rows; from 128 rows up the two were level (bench/README.md, "Prefill rows").
constexpr int64_t kFewRowsMatmulMaxRows = 128;

// True when x [..., K] (at most kFewRowsMatmulMaxRows rows with AVX-512, kFewRowsMatmulDecodeRows
// with AVX2) and weight [N, K] are CPU tensors of one dtype this machine has a kernel for (fp32,
// bf16), nothing needs a gradient, and bias (if defined) is [N] of that dtype.
bool few_rows_matmul_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

// The kernel families, best first; a CPU runs the best it supports.
enum class FewRowsIsa { Avx512Bf16, Avx2, None };
FewRowsIsa few_rows_matmul_isa();
const char* to_string(FewRowsIsa isa);  // "avx512-bf16", "avx2", "none"

// x W^T (+ bias), shaped [..., N]; call only where few_rows_matmul_applies() (or with an fp32 x and
// bias against a bf16 weight: its values widened exactly, fp32 products, an fp32 result; see
// FewRowsProduct::widen_bf16_weights). `isa` picks a lower family than the CPU's best (tests run
// both); a family the CPU lacks is refused.
torch::Tensor few_rows_matmul(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              FewRowsIsa isa = few_rows_matmul_isa());

// One product for few_rows_matmuls: out[m * N + n] = dot(weight[n], x[m]) in fp32 for m < rows, with
// x [rows, K] contiguous in the weight's dtype (contiguous [N, K], fp32 or bf16), no bias.
// widen_bf16_weights: the weight is bf16 and x fp32; each weight is widened to fp32 (exactly) and
// the products are fp32 ones, added in the fp32 kernel's order. A weight held as fp32 whose values
// are all bf16 values (exact_bf16.h) then gives the fp32 product's sums bit for bit from half the
// bytes.
struct FewRowsProduct {
  const void* x;
  int64_t rows;
  const torch::Tensor* weight;
  float* out;
  bool widen_bf16_weights = false;
};

// Several independent products in one fork-join over LibTorch's threads (a decode layer's q, k and v
// projections together: one hand-off instead of three). Each product's weight rows are split over
// the threads as few_rows_matmul splits them alone, so every output equals its result bit for bit.
// Same conditions as few_rows_matmul.
void few_rows_matmuls(const std::vector<FewRowsProduct>& products, FewRowsIsa isa = few_rows_matmul_isa());

// out[r * n + i] = acc[r * n + i] (+ bias[i]) for r < rows, rounded once to T (float or
// c10::BFloat16): a product's fp32 sums finished as few_rows_matmul finishes them, the bias added in
// fp32. bias may be null; out may be acc when T is float.
template <typename T>
void few_rows_finish(const float* acc, const T* bias, int64_t rows, int64_t n, T* out);

// How many threads' shares n weight rows are split into (the tile a row gets depends on its share).
inline int few_rows_share_parts(int64_t n, int threads) {
  return static_cast<int>(std::min<int64_t>(n, std::max(1, threads)));
}

}  // namespace psy
