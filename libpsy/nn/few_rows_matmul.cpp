#include "libpsy/nn/few_rows_matmul.h"

#include "libpsy/core/error.h"
#include "libpsy/core/spinning_pool.h"
#include "libpsy/nn/simd_lanes.h"

#include <immintrin.h>

#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>

#include <algorithm>
#include <string>
#include <vector>

namespace psy {
namespace {

// The kernels take one weight row at a time against C rows of x (the "columns" of the output):
// out[c] = dot(w, x[c]), C = 1..4 at compile time so the accumulators stay in registers. Weight
// rows are read in memory order, one after the other: on a 2-core VM that streamed at the full
// read rate (26 GB/s for two threads), where interleaving four rows at a time reached 17 GB/s with
// or without software prefetching. Each x row keeps two accumulators (even and odd vectors), so a
// lone row is not held up by the latency of one dependent chain.

#define PSY_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512bf16")))
#define PSY_TARGET_AVX2 __attribute__((target("avx2,fma")))

using Isa = FewRowsIsa;

Isa detect_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512bf16"))
    return Isa::Avx512Bf16;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
  return Isa::None;
}

// ---- AVX-512: 16 fp32 lanes; bf16 as 32 values per register, multiplied in pairs ----------------

constexpr int kColsAvx512 = 4;

template <int C>
PSY_TARGET_AVX512 void row_f32_avx512(const float* w, const float* const* x, int64_t k_size, float* out) {
  __m512 even[C], odd[C];
  for (int c = 0; c < C; ++c) even[c] = odd[c] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 32 <= k_size; k += 32) {
    const __m512 w0 = _mm512_loadu_ps(w + k), w1 = _mm512_loadu_ps(w + k + 16);
    for (int c = 0; c < C; ++c) {
      even[c] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x[c] + k), even[c]);
      odd[c] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x[c] + k + 16), odd[c]);
    }
  }
  // The rest, 16 at a time; the last step loads only what is left (zeros past the end add nothing).
  for (; k < k_size; k += 16) {
    const int64_t left = k_size - k;
    const __mmask16 mask = left >= 16 ? static_cast<__mmask16>(0xFFFFu) : static_cast<__mmask16>((1u << left) - 1u);
    const __m512 wv = _mm512_maskz_loadu_ps(mask, w + k);
    for (int c = 0; c < C; ++c) even[c] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(mask, x[c] + k), even[c]);
  }
  for (int c = 0; c < C; ++c) out[c] = sum_lanes_avx512(_mm512_add_ps(even[c], odd[c]));
}

template <int C>
PSY_TARGET_AVX512 void row_bf16_avx512(const c10::BFloat16* w, const c10::BFloat16* const* x, int64_t k_size,
                                       float* out) {
  __m512 even[C], odd[C];
  for (int c = 0; c < C; ++c) even[c] = odd[c] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 64 <= k_size; k += 64) {
    const __m512bh w0 = (__m512bh)_mm512_loadu_si512(w + k), w1 = (__m512bh)_mm512_loadu_si512(w + k + 32);
    for (int c = 0; c < C; ++c) {
      even[c] = _mm512_dpbf16_ps(even[c], w0, (__m512bh)_mm512_loadu_si512(x[c] + k));
      odd[c] = _mm512_dpbf16_ps(odd[c], w1, (__m512bh)_mm512_loadu_si512(x[c] + k + 32));
    }
  }
  // As above, 32 values at a time.
  for (; k < k_size; k += 32) {
    const int64_t left = k_size - k;
    const __mmask32 mask = left >= 32 ? static_cast<__mmask32>(0xFFFFFFFFu)
                                      : static_cast<__mmask32>((uint64_t{1} << left) - 1u);
    const __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(mask, w + k);
    for (int c = 0; c < C; ++c)
      even[c] = _mm512_dpbf16_ps(even[c], wv, (__m512bh)_mm512_maskz_loadu_epi16(mask, x[c] + k));
  }
  for (int c = 0; c < C; ++c) out[c] = sum_lanes_avx512(_mm512_add_ps(even[c], odd[c]));
}

// ---- AVX2: 8 fp32 lanes; bf16 weights widened to fp32 (x is converted to fp32 beforehand) -------

constexpr int kColsAvx2 = 2;

PSY_TARGET_AVX2 inline __m256 load8_avx2(const float* p) { return _mm256_loadu_ps(p); }
PSY_TARGET_AVX2 inline __m256 load8_avx2(const c10::BFloat16* p) {
  const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

template <int C, typename W>
PSY_TARGET_AVX2 void row_avx2(const W* w, const float* const* x, int64_t k_size, float* out) {
  __m256 even[C], odd[C];
  for (int c = 0; c < C; ++c) even[c] = odd[c] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= k_size; k += 16) {
    const __m256 w0 = load8_avx2(w + k), w1 = load8_avx2(w + k + 8);
    for (int c = 0; c < C; ++c) {
      even[c] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[c] + k), even[c]);
      odd[c] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[c] + k + 8), odd[c]);
    }
  }
  for (int c = 0; c < C; ++c) {
    float s = sum_lanes_avx2(_mm256_add_ps(even[c], odd[c]));
    for (int64_t kk = k; kk < k_size; ++kk) s += static_cast<float>(w[kk]) * x[c][kk];
    out[c] = s;
  }
}

// ---- the driver: weight rows split over the threads, x rows in groups of up to C ----------------

// One row function per column count 1..C, so a lone x row does not pay for C.
template <typename W, typename X>
using RowFn = void (*)(const W*, const X* const*, int64_t, float*);

// out_f32[m * n_size + n] = dot(w[n], x[m]) for every n in [0, n_size), m in [0, m_size).
template <int C, typename W, typename X>
void multiply(const W* w, const X* x, int64_t m_size, int64_t n_size, int64_t k_size, float* out_f32,
              const RowFn<W, X> (&row_fns)[C]) {
  // One part per thread, each a contiguous share of the weight rows, read once; a weight row stays
  // in the cache while every group of x rows uses it.
  const int parts = static_cast<int>(std::min<int64_t>(n_size, std::max(1, at::get_num_threads())));
  run_parts_spinning(parts, [&](int part) {
    const int64_t n0 = n_size * part / parts, n1 = n_size * (part + 1) / parts;
    for (int64_t n = n0; n < n1; ++n) {
      for (int64_t m0 = 0; m0 < m_size; m0 += C) {
        const int cols = static_cast<int>(std::min<int64_t>(C, m_size - m0));
        const X* xs[C];
        for (int c = 0; c < cols; ++c) xs[c] = x + (m0 + c) * k_size;
        float row_out[C];
        row_fns[cols - 1](w + n * k_size, xs, k_size, row_out);
        for (int c = 0; c < cols; ++c) out_f32[(m0 + c) * n_size + n] = row_out[c];
      }
    }
  });
}

void matmul_f32(const torch::Tensor& x2, const torch::Tensor& w, Isa isa, float* out) {
  const int64_t m = x2.size(0), n = w.size(0), k = w.size(1);
  const float* wp = w.data_ptr<float>();
  const float* xp = x2.data_ptr<float>();
  if (isa == Isa::Avx512Bf16) {
    static constexpr RowFn<float, float> row_fns[kColsAvx512] = {row_f32_avx512<1>, row_f32_avx512<2>,
                                                                row_f32_avx512<3>, row_f32_avx512<4>};
    multiply(wp, xp, m, n, k, out, row_fns);
  } else {
    static constexpr RowFn<float, float> row_fns[kColsAvx2] = {row_avx2<1, float>, row_avx2<2, float>};
    multiply(wp, xp, m, n, k, out, row_fns);
  }
}

void matmul_bf16(const torch::Tensor& x2, const torch::Tensor& w, Isa isa, float* out) {
  using Bf16 = c10::BFloat16;
  const int64_t m = x2.size(0), n = w.size(0), k = w.size(1);
  const Bf16* wp = w.data_ptr<Bf16>();
  if (isa == Isa::Avx512Bf16) {
    static constexpr RowFn<Bf16, Bf16> row_fns[kColsAvx512] = {row_bf16_avx512<1>, row_bf16_avx512<2>,
                                                              row_bf16_avx512<3>, row_bf16_avx512<4>};
    multiply(wp, x2.data_ptr<Bf16>(), m, n, k, out, row_fns);
  } else {
    const torch::Tensor xf = x2.to(torch::kFloat32).contiguous();
    static constexpr RowFn<Bf16, float> row_fns[kColsAvx2] = {row_avx2<1, Bf16>, row_avx2<2, Bf16>};
    multiply(wp, xf.data_ptr<float>(), m, n, k, out, row_fns);
  }
}

bool kernel_dtype(torch::ScalarType t) { return t == torch::kFloat32 || t == torch::kBFloat16; }

}  // namespace

FewRowsIsa few_rows_matmul_isa() {
  static const Isa isa = detect_isa();
  return isa;
}

const char* to_string(FewRowsIsa isa) {
  switch (isa) {
    case Isa::Avx512Bf16: return "avx512-bf16";
    case Isa::Avx2: return "avx2";
    case Isa::None: break;
  }
  return "none";
}

bool few_rows_matmul_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  if (few_rows_matmul_isa() == Isa::None) return false;
  if (!x.device().is_cpu() || !weight.device().is_cpu() || weight.dim() != 2 || x.dim() < 1) return false;
  if (!kernel_dtype(weight.scalar_type()) || x.scalar_type() != weight.scalar_type()) return false;
  if (x.size(-1) != weight.size(1) || x.size(-1) == 0 || weight.size(0) == 0) return false;
  if (x.numel() > kFewRowsMatmulMaxRows * x.size(-1)) return false;
  if (bias.defined() && (bias.scalar_type() != weight.scalar_type() || bias.numel() != weight.size(0) ||
                         !bias.device().is_cpu()))
    return false;
  if (torch::GradMode::is_enabled() &&
      (x.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad())))
    return false;
  return true;
}

torch::Tensor few_rows_matmul(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              FewRowsIsa isa) {
  if (isa == Isa::None || static_cast<int>(isa) < static_cast<int>(few_rows_matmul_isa()))
    throw Error(std::string("few_rows_matmul: this CPU has no ") + to_string(isa) + " kernel (its best is " +
                to_string(few_rows_matmul_isa()) + ")");
  const int64_t k = x.size(-1), n = weight.size(0);
  const torch::Tensor x2 = x.reshape({-1, k}).contiguous();
  const torch::Tensor w = weight.contiguous();
  const int64_t m = x2.size(0);
  torch::Tensor out_f32 = torch::empty({m, n}, x.options().dtype(torch::kFloat32));
  if (w.scalar_type() == torch::kFloat32)
    matmul_f32(x2, w, isa, out_f32.data_ptr<float>());
  else
    matmul_bf16(x2, w, isa, out_f32.data_ptr<float>());
  if (bias.defined()) out_f32.add_(bias.to(torch::kFloat32));
  std::vector<int64_t> sizes = x.sizes().vec();
  sizes.back() = n;
  return out_f32.to(x.scalar_type()).view(sizes);
}

}  // namespace psy
