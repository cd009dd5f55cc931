#include "libpsy/nn/few_rows_matmul.h"

#include "libpsy/core/error.h"

#include <immintrin.h>

#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>

#include <algorithm>
#include <string>
#include <vector>

namespace psy {
namespace {

// The kernels compute a tile of kRows weight rows against C rows of x (the "columns" of the
// output): out[r * C + c] = dot(w[r], x[c]), C = 1..4 at compile time so the accumulators stay in
// registers. The last weight rows of a matrix whose height is not a multiple of kRows repeat the
// last row and their results are dropped.
constexpr int kRows = 4;

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

// The sum of the 16 lanes, once per tile (GCC 12's _mm512_reduce_add_ps and its lane shuffles warn
// about an uninitialised operand in their own headers).
PSY_TARGET_AVX512 inline float sum_lanes_avx512(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float s = 0.0f;
  for (float lane : lanes) s += lane;
  return s;
}

template <int C>
PSY_TARGET_AVX512 void tile_f32_avx512(const float* const* w, const float* const* next, const float* const* x,
                                       int64_t k_size, float* out) {
  __m512 acc[kRows][C];
  for (int r = 0; r < kRows; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  // The last step loads only what is left (zeros past the end add nothing); the others load all 16.
  for (int64_t k = 0; k < k_size; k += 16) {
    const int64_t left = k_size - k;
    const __mmask16 mask = left >= 16 ? static_cast<__mmask16>(0xFFFFu) : static_cast<__mmask16>((1u << left) - 1u);
    __m512 xv[C];
    for (int c = 0; c < C; ++c) xv[c] = _mm512_maskz_loadu_ps(mask, x[c] + k);
    for (int r = 0; r < kRows; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(next[r] + k), _MM_HINT_T0);
      const __m512 wv = _mm512_maskz_loadu_ps(mask, w[r] + k);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(wv, xv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < kRows; ++r)
    for (int c = 0; c < C; ++c) out[r * C + c] = sum_lanes_avx512(acc[r][c]);
}

template <int C>
PSY_TARGET_AVX512 void tile_bf16_avx512(const c10::BFloat16* const* w, const c10::BFloat16* const* next,
                                        const c10::BFloat16* const* x, int64_t k_size, float* out) {
  __m512 acc[kRows][C];
  for (int r = 0; r < kRows; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  // As above, 32 values per step; the last step loads only what is left.
  for (int64_t k = 0; k < k_size; k += 32) {
    const int64_t left = k_size - k;
    const __mmask32 mask = left >= 32 ? static_cast<__mmask32>(0xFFFFFFFFu)
                                      : static_cast<__mmask32>((uint64_t{1} << left) - 1u);
    __m512bh xv[C];
    for (int c = 0; c < C; ++c) xv[c] = (__m512bh)_mm512_maskz_loadu_epi16(mask, x[c] + k);
    for (int r = 0; r < kRows; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(next[r] + k), _MM_HINT_T0);
      const __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(mask, w[r] + k);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], wv, xv[c]);
    }
  }
  for (int r = 0; r < kRows; ++r)
    for (int c = 0; c < C; ++c) out[r * C + c] = sum_lanes_avx512(acc[r][c]);
}

// ---- AVX2: 8 fp32 lanes; bf16 weights widened to fp32 (x is converted to fp32 beforehand) -------

constexpr int kColsAvx2 = 2;

PSY_TARGET_AVX2 inline float sum_lanes_avx2(__m256 v) {
  const __m128 four = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 two = _mm_add_ps(four, _mm_movehl_ps(four, four));
  return _mm_cvtss_f32(_mm_add_ss(two, _mm_shuffle_ps(two, two, 1)));
}

PSY_TARGET_AVX2 inline __m256 load8_avx2(const float* p) { return _mm256_loadu_ps(p); }
PSY_TARGET_AVX2 inline __m256 load8_avx2(const c10::BFloat16* p) {
  const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

template <int C, typename W>
PSY_TARGET_AVX2 void tile_avx2(const W* const* w, const W* const* next, const float* const* x, int64_t k_size,
                               float* out) {
  __m256 acc[kRows][C];
  for (int r = 0; r < kRows; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= k_size; k += 8) {
    __m256 xv[C];
    for (int c = 0; c < C; ++c) xv[c] = _mm256_loadu_ps(x[c] + k);
    for (int r = 0; r < kRows; ++r) {
      if (k % 32 == 0) _mm_prefetch(reinterpret_cast<const char*>(next[r] + k), _MM_HINT_T0);
      const __m256 wv = load8_avx2(w[r] + k);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(wv, xv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < kRows; ++r)
    for (int c = 0; c < C; ++c) {
      float s = sum_lanes_avx2(acc[r][c]);
      for (int64_t kk = k; kk < k_size; ++kk) s += static_cast<float>(w[r][kk]) * x[c][kk];
      out[r * C + c] = s;
    }
}

// ---- the driver: weight rows split over LibTorch's threads, x rows in tiles of up to C ----------

// One tile function per column count 1..C, so a lone row does not pay for C.
template <typename W, typename X>
using TileFn = void (*)(const W* const*, const W* const*, const X* const*, int64_t, float*);

// out_f32[m * n_size + n] = dot(w[n], x[m]) for every n in [0, n_size), m in [0, m_size).
template <int C, typename W, typename X>
void multiply(const W* w, const X* x, int64_t m_size, int64_t n_size, int64_t k_size, float* out_f32,
              const TileFn<W, X> (&tiles)[C]) {
  const int64_t blocks = (n_size + kRows - 1) / kRows;
  // One task per thread: each reads its share of the weight rows once.
  const int64_t grain = std::max<int64_t>(1, blocks / std::max<int64_t>(1, at::get_num_threads()));
  at::parallel_for(0, blocks, grain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t n0 = b * kRows;
      const W* rows[kRows];
      const W* next[kRows];  // the next tile's rows, fetched into the cache while this one runs
      for (int r = 0; r < kRows; ++r) {
        rows[r] = w + std::min(n0 + r, n_size - 1) * k_size;
        next[r] = w + std::min(n0 + kRows + r, n_size - 1) * k_size;
      }
      for (int64_t m0 = 0; m0 < m_size; m0 += C) {
        const int cols = static_cast<int>(std::min<int64_t>(C, m_size - m0));
        const X* xs[C];
        for (int c = 0; c < cols; ++c) xs[c] = x + (m0 + c) * k_size;
        float tile_out[kRows * C];
        tiles[cols - 1](rows, next, xs, k_size, tile_out);
        for (int r = 0; r < kRows && n0 + r < n_size; ++r)
          for (int c = 0; c < cols; ++c) out_f32[(m0 + c) * n_size + n0 + r] = tile_out[r * cols + c];
      }
    }
  });
}

void matmul_f32(const torch::Tensor& x2, const torch::Tensor& w, Isa isa, float* out) {
  const int64_t m = x2.size(0), n = w.size(0), k = w.size(1);
  const float* wp = w.data_ptr<float>();
  const float* xp = x2.data_ptr<float>();
  if (isa == Isa::Avx512Bf16) {
    static constexpr TileFn<float, float> tiles[kColsAvx512] = {tile_f32_avx512<1>, tile_f32_avx512<2>,
                                                                tile_f32_avx512<3>, tile_f32_avx512<4>};
    multiply(wp, xp, m, n, k, out, tiles);
  } else {
    static constexpr TileFn<float, float> tiles[kColsAvx2] = {tile_avx2<1, float>, tile_avx2<2, float>};
    multiply(wp, xp, m, n, k, out, tiles);
  }
}

void matmul_bf16(const torch::Tensor& x2, const torch::Tensor& w, Isa isa, float* out) {
  using Bf16 = c10::BFloat16;
  const int64_t m = x2.size(0), n = w.size(0), k = w.size(1);
  const Bf16* wp = w.data_ptr<Bf16>();
  if (isa == Isa::Avx512Bf16) {
    static constexpr TileFn<Bf16, Bf16> tiles[kColsAvx512] = {tile_bf16_avx512<1>, tile_bf16_avx512<2>,
                                                              tile_bf16_avx512<3>, tile_bf16_avx512<4>};
    multiply(wp, x2.data_ptr<Bf16>(), m, n, k, out, tiles);
  } else {
    const torch::Tensor xf = x2.to(torch::kFloat32).contiguous();
    static constexpr TileFn<Bf16, float> tiles[kColsAvx2] = {tile_avx2<1, Bf16>, tile_avx2<2, Bf16>};
    multiply(wp, xf.data_ptr<float>(), m, n, k, out, tiles);
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
