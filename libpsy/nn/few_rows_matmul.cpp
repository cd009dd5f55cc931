#include "libpsy/nn/few_rows_matmul.h"

#include "libpsy/core/error.h"
#include "libpsy/core/spinning_pool.h"
#include "libpsy/core/cpu_features.h"
#include "libpsy/nn/simd_lanes.h"

#include <immintrin.h>

#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace psy {
namespace {

// The kernels take R = 1, 2 or 4 consecutive weight rows against C = 1..8 rows of x (the "columns"
// of the output): out[r * C + c] = dot(w[r], x[c]), R and C fixed at compile time so the
// accumulators stay in registers. Every R but 1 adds each dot product in the same order.
// - Up to 4 rows of x (decoding a few sequences: memory-bound), R = 1: weight rows are read in
//   memory order, one after the other. On a 2-core VM that streamed at the full read rate (26 GB/s
//   for two threads), where interleaving four rows at a time reached 17 GB/s with or without
//   software prefetching. Each x row keeps two accumulators (even and odd vectors), so a lone row
//   is not held up by the latency of one dependent chain.
// - 5 or more rows of x (a batch of sequences: the multiply-adds dominate), R = 2: each loaded x
//   vector serves two weight rows, 10 loads per 16 multiply-adds instead of 9 per 8. (At 4 rows the
//   two-row tiles were slower: 37-39 ms against 29-30 ms through every fp32 projection.)

// The AVX-512 kernels name avx2 and fma as well: without them GCC could not inline sum_lanes_avx512
// (target "avx512f,avx2,fma"), called it out of line, and then ended the kernels without VZEROUPPER.
// Intel cores run the SSE code after such a kernel with a merge per instruction: on an Intel Xeon
// (bench_few_rows, 2 threads) one fp32 row took 35-39 ms per pass instead of 22-25, one bf16 row
// 41-44 instead of 14-17. sum_lanes_* are always_inline now, so a mismatch fails to compile.
#define PSY_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))
#define PSY_TARGET_AVX2 __attribute__((target("avx2,fma")))

using Isa = FewRowsIsa;

Isa detect_isa() {
  const CpuFeatures& cpu = cpu_features();
  if (cpu.avx512_bf16) return Isa::Avx512Bf16;
  if (cpu.avx2_fma) return Isa::Avx2;
  return Isa::None;
}

// ---- AVX-512: 16 fp32 lanes; bf16 as 32 values per register, multiplied in pairs ----------------

// Up to 8 rows of x per tile: 16 accumulators for two weight rows, 10 loads per 16 multiply-adds.
// On the Intel Xeon (bench_few_rows, 2 threads, alternating runs) 8 rows of fp32 took 28.5-28.8 ms
// per pass against 30.2-33.5 with tiles of 4, 16 rows 38.6-40.0 against 43.7-49.4, 8 rows of bf16
// 24.6-25.2 against 27.2-27.7; 6 rows about the same (26.3-26.5 against 27.2-27.8).
constexpr int kColsAvx512 = 8;

// Many rows of x (more than kFewRowsMatmulDecodeRows: a prefill) go 6 at a time against 4 weight
// rows, over blocks of weight rows of about this size, so the weights come from L2 for every group
// of x rows after the first. 4 x 6 tiles: in L1 on the Intel Xeon they multiplied at 41 G lanes/s
// on one thread against 32 for the decode's 2 x 8 (fewer loads per multiply-add); blocks of 32,
// 128 and 512 KB could not be told apart.
constexpr int kWideCols = 6;
constexpr int64_t kWeightBlockBytes = 128 * 1024;

// Weights are prefetched into L2 this far ahead of the row being read. Rows are contiguous, so this
// runs ahead along the one stream a thread reads. On the 2-core Zen 4 VM (bench_few_rows, 538 MB of
// fp32 projections) it took 8 rows of x from 44-52 to 25-28 ms per pass (the multiply-adds and
// the memory reads now overlap) and bf16 one row from 14.4 to 10-12 ms; 16-128 KB all did about
// as well, near prefetches into L1 (one tile ahead) gained little. The AVX2 kernel, forced on the
// same VM (bench_few_rows --isa avx2, alternating runs): 8 rows 38.5 -> 28.9 ms, but one row
// 12.8 -> 14.2 ms (its stream already ran at the read rate), so it prefetches from 5 rows up.
constexpr int64_t kPrefetchBytes = 64 * 1024;

// fp32 weights and x: 16 values per register, fused multiply-add.
struct F32x16 {
  using W = float;
  using X = float;
  using Vec = __m512;
  static constexpr int64_t kLanes = 16;
  PSY_TARGET_AVX512 static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  PSY_TARGET_AVX512 static Vec load_first(const float* p, int64_t n) {  // n < 16 values, zeros after
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1u), p);
  }
  PSY_TARGET_AVX512 static __m512 madd(__m512 acc, Vec w, Vec x) { return _mm512_fmadd_ps(w, x, acc); }
};

// bf16 weights and x: 32 values per register, products of pairs summed into 16 fp32 lanes.
struct Bf16x32 {
  using W = c10::BFloat16;
  using X = c10::BFloat16;
  using Vec = __m512bh;
  static constexpr int64_t kLanes = 32;
  PSY_TARGET_AVX512 static Vec load(const W* p) { return (__m512bh)_mm512_loadu_si512(p); }
  PSY_TARGET_AVX512 static Vec load_first(const W* p, int64_t n) {
    return (__m512bh)_mm512_maskz_loadu_epi16(static_cast<__mmask32>((uint64_t{1} << n) - 1u), p);
  }
  PSY_TARGET_AVX512 static __m512 madd(__m512 acc, Vec w, Vec x) { return _mm512_dpbf16_ps(acc, w, x); }
};

// bf16 weights and fp32 x: each weight widened to fp32 (exactly: a bf16 value is an fp32 value with
// the low 16 bits zero), then F32x16's multiply-adds in F32x16's order. A weight that is exactly
// bf16 gives F32x16's sums bit for bit from half the bytes.
struct WidenedBf16x16 {
  using W = c10::BFloat16;
  using X = float;
  using Vec = __m512;
  static constexpr int64_t kLanes = 16;
  PSY_TARGET_AVX512 static Vec load(const W* p) {
    return widen_bf16_avx512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  PSY_TARGET_AVX512 static Vec load_first(const W* p, int64_t n) {
    return widen_bf16_avx512(_mm256_maskz_loadu_epi16(static_cast<__mmask16>((1u << n) - 1u), p));
  }
  PSY_TARGET_AVX512 static Vec load(const X* p) { return F32x16::load(p); }
  PSY_TARGET_AVX512 static Vec load_first(const X* p, int64_t n) { return F32x16::load_first(p, n); }
  PSY_TARGET_AVX512 static __m512 madd(__m512 acc, Vec w, Vec x) { return _mm512_fmadd_ps(w, x, acc); }
};

// Weight rows w, w + k_size, ... (R of them) against x[0..C); `prefetch`: also ask for the weights
// kPrefetchBytes ahead (the first group of x rows does; the others read rows already cached).
template <typename V, int R, int C>
PSY_TARGET_AVX512 void tile_avx512(const typename V::W* w, const typename V::X* const* x, int64_t k_size,
                                   float* out, bool prefetch) {
  constexpr int kSplit = R == 1 ? 2 : 1;  // accumulators per output: even and odd steps for a lone row
  constexpr int64_t kStep = kSplit * V::kLanes;
  __m512 acc[kSplit][R][C];
  for (int s = 0; s < kSplit; ++s)
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[s][r][c] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + kStep <= k_size; k += kStep) {
    for (int s = 0; s < kSplit; ++s) {
      const int64_t at = k + s * V::kLanes;
      typename V::Vec wv[R];
      for (int r = 0; r < R; ++r) wv[r] = V::load(w + r * k_size + at);
      if (prefetch)
        for (int r = 0; r < R; ++r) _mm_prefetch(reinterpret_cast<const char*>(w + r * k_size + at) + kPrefetchBytes, _MM_HINT_T1);
      for (int c = 0; c < C; ++c) {
        typename V::Vec xv = V::load(x[c] + at);
        // Keeps xv in a register: else GCC folds the load into each of the R multiply-adds, and
        // the 2 x 8 tile with its weights in L2 multiplied at 26-31 G lanes/s instead of 62-65
        // (one thread, Intel Xeon, a copy of the kernel outside psy). A whole pass over SmolLM2's
        // weights is memory-bound at 8 rows (bench_few_rows: 23.5-25.7 ms either way, quiet
        // rounds); at 16 rows it took 34.1-47.3 ms against 37.8-57.6.
        __asm__("" : "+v"(xv));
        for (int r = 0; r < R; ++r) acc[s][r][c] = V::madd(acc[s][r][c], wv[r], xv);
      }
    }
  }
  // The rest, one register at a time; the last loads only what is left (zeros add nothing).
  for (; k < k_size; k += V::kLanes) {
    const int64_t left = std::min<int64_t>(V::kLanes, k_size - k);
    typename V::Vec wv[R];
    for (int r = 0; r < R; ++r) wv[r] = left == V::kLanes ? V::load(w + r * k_size + k) : V::load_first(w + r * k_size + k, left);
    for (int c = 0; c < C; ++c) {
      const typename V::Vec xv = left == V::kLanes ? V::load(x[c] + k) : V::load_first(x[c] + k, left);
      for (int r = 0; r < R; ++r) acc[0][r][c] = V::madd(acc[0][r][c], wv[r], xv);
    }
  }
  if constexpr (R * C < 8) {
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c)
        out[r * C + c] = sum_lanes_avx512(kSplit == 2 ? _mm512_add_ps(acc[0][r][c], acc[kSplit - 1][r][c]) : acc[0][r][c]);
  } else {
    // 16 sums at a time, each equal to its sum_lanes_avx512 (zero registers pad the last group).
    __m512 group[16];
    for (int first = 0; first < R * C; first += 16) {
      for (int i = 0; i < 16; ++i) {
        const int o = first + i;
        group[i] = o >= R * C ? _mm512_setzero_ps()
                   : kSplit == 2 ? _mm512_add_ps(acc[0][o / C][o % C], acc[kSplit - 1][o / C][o % C])
                                 : acc[0][o / C][o % C];
      }
      const __m512 sums = sum_lanes_of_16_avx512(group);
      const int count = std::min(16, R * C - first);
      _mm512_mask_storeu_ps(out + first, static_cast<__mmask16>((1u << count) - 1u), sums);
    }
  }
}

// ---- AVX2: 8 fp32 lanes; bf16 weights widened to fp32 (x is converted to fp32 beforehand) -------

constexpr int kColsAvx2 = 2;

PSY_TARGET_AVX2 inline __m256 load8_avx2(const float* p) { return _mm256_loadu_ps(p); }
PSY_TARGET_AVX2 inline __m256 load8_avx2(const c10::BFloat16* p) {
  const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

template <int C, typename W>
PSY_TARGET_AVX2 void row_avx2(const W* w, const float* const* x, int64_t k_size, float* out, bool prefetch) {
  __m256 even[C], odd[C];
  for (int c = 0; c < C; ++c) even[c] = odd[c] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= k_size; k += 16) {
    const __m256 w0 = load8_avx2(w + k), w1 = load8_avx2(w + k + 8);
    if (prefetch) _mm_prefetch(reinterpret_cast<const char*>(w + k) + kPrefetchBytes, _MM_HINT_T1);
    for (int c = 0; c < C; ++c) {
      even[c] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[c] + k), even[c]);
      odd[c] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[c] + k + 8), odd[c]);
    }
  }
  for (int c = 0; c < C; ++c) {
    float s = sum_lanes_avx2(_mm256_add_ps(even[c], odd[c]));
    // An explicit fma: left to the compiler, the contraction differed between the fp32 and the
    // widened-bf16 instantiations, and so did their sums.
    for (int64_t kk = k; kk < k_size; ++kk) s = std::fma(static_cast<float>(w[kk]), x[c][kk], s);
    out[c] = s;
  }
}

// ---- the driver: weight rows split over the threads, x rows in groups of up to C ----------------

// Kernels for R weight rows against c = 1..C rows of x (one per c, so a lone x row does not pay
// for C); out is [R][c].
template <typename W, typename X>
using TileFn = void (*)(const W*, const X* const*, int64_t, float*, bool);
template <typename W, typename X, int C>
struct Tiles {
  TileFn<W, X> one_row[C];
  TileFn<W, X> two_rows[C];  // null where the family has no two-row kernel
  int64_t prefetch_from_rows;  // prefetch weights (kPrefetchBytes) from this many rows of x up
  // Many rows of x (a prompt's prefill): four weight rows against up to kWideCols rows of x, 24
  // accumulators, 10 loads per 24 multiply-adds. Null where the family has none.
  TileFn<W, X> four_rows[kWideCols];
};

// out_f32[m * n_size + n] = dot(w[n], x[m]) for every n in [n0, n1), m in [0, m_size): one thread's
// contiguous share of the weight rows. Which tile computes a row depends on the share's bounds (a
// share of odd length ends with a one-row tile), so every caller splits the rows as
// few_rows_share_parts() says. Four-row tiles add in the same order as two-row ones and start at even
// offsets from n0, so they change no sum.
// - Up to kFewRowsMatmulDecodeRows rows of x (decoding): each weight row is read once, and every group
//   of x rows uses it while it is in L1.
// - More (a prefill): the share goes in blocks of weight rows that stay in L2 (kWeightBlockBytes)
//   while groups of x rows, held in L1, pass over them, four weight rows at a time.
template <int C, typename W, typename X>
void multiply_share(const W* w, const X* x, int64_t m_size, int64_t n_size, int64_t k_size, float* out_f32,
                    const Tiles<W, X, C>& tiles, int64_t n0, int64_t n1) {
  const bool pairs = m_size > 4 && tiles.two_rows[0] != nullptr;
  const bool many = m_size > kFewRowsMatmulDecodeRows && tiles.four_rows[0] != nullptr;
  const int group = many ? kWideCols : C;
  const int64_t row_bytes = k_size * static_cast<int64_t>(sizeof(W));
  const int64_t block = !many ? (pairs ? 2 : 1) : std::max<int64_t>(4, kWeightBlockBytes / row_bytes / 4 * 4);
  for (int64_t b0 = n0; b0 < n1; b0 += block) {
    const int64_t b1 = std::min(n1, b0 + block);
    for (int64_t m0 = 0; m0 < m_size; m0 += group) {
      const int cols = static_cast<int>(std::min<int64_t>(group, m_size - m0));
      const X* xs[C];
      for (int c = 0; c < cols; ++c) xs[c] = x + (m0 + c) * k_size;
      const bool prefetch = m0 == 0 && m_size >= tiles.prefetch_from_rows;
      for (int64_t n = b0; n < b1;) {
        const int rows = many && b1 - n >= 4 ? 4 : pairs && b1 - n >= 2 ? 2 : 1;
        const TileFn<W, X> tile = rows == 4 ? tiles.four_rows[cols - 1] : rows == 2 ? tiles.two_rows[cols - 1] : tiles.one_row[cols - 1];
        float tile_out[4 * C];
        tile(w + n * k_size, xs, k_size, tile_out, prefetch);
        for (int r = 0; r < rows; ++r)
          for (int c = 0; c < cols; ++c) out_f32[(m0 + c) * n_size + n + r] = tile_out[r * cols + c];
        n += rows;
      }
    }
  }
}

template <typename V>
constexpr Tiles<typename V::W, typename V::X, kColsAvx512> avx512_tiles = {
    {tile_avx512<V, 1, 1>, tile_avx512<V, 1, 2>, tile_avx512<V, 1, 3>, tile_avx512<V, 1, 4>,
     tile_avx512<V, 1, 5>, tile_avx512<V, 1, 6>, tile_avx512<V, 1, 7>, tile_avx512<V, 1, 8>},
    {tile_avx512<V, 2, 1>, tile_avx512<V, 2, 2>, tile_avx512<V, 2, 3>, tile_avx512<V, 2, 4>,
     tile_avx512<V, 2, 5>, tile_avx512<V, 2, 6>, tile_avx512<V, 2, 7>, tile_avx512<V, 2, 8>},
    /*prefetch_from_rows=*/1,
    {tile_avx512<V, 4, 1>, tile_avx512<V, 4, 2>, tile_avx512<V, 4, 3>, tile_avx512<V, 4, 4>,
     tile_avx512<V, 4, 5>, tile_avx512<V, 4, 6>}};

template <typename W>
constexpr Tiles<W, float, kColsAvx2> avx2_tiles = {{row_avx2<1, W>, row_avx2<2, W>}, {nullptr, nullptr},
                                                    /*prefetch_from_rows=*/5, {nullptr}};

// One product's share [n0, n1) of its weight rows, in the family `isa` picks. x is in the weights'
// dtype, except bf16 weights on AVX2, whose x comes widened to fp32 (x_f32).
void product_share(const FewRowsProduct& p, const float* x_f32, Isa isa, int64_t n0, int64_t n1) {
  using Bf16 = c10::BFloat16;
  const torch::Tensor& w = *p.weight;
  const int64_t m = p.rows, n = w.size(0), k = w.size(1);
  if (w.scalar_type() == torch::kFloat32) {
    const float* wp = w.data_ptr<float>();
    const auto* xp = static_cast<const float*>(p.x);
    if (isa == Isa::Avx512Bf16) multiply_share(wp, xp, m, n, k, p.out, avx512_tiles<F32x16>, n0, n1);
    else multiply_share(wp, xp, m, n, k, p.out, avx2_tiles<float>, n0, n1);
  } else if (p.widen_bf16_weights) {  // the AVX2 kernel widens bf16 weights anyway
    const Bf16* wp = w.data_ptr<Bf16>();
    const auto* xp = static_cast<const float*>(p.x);
    if (isa == Isa::Avx512Bf16) multiply_share(wp, xp, m, n, k, p.out, avx512_tiles<WidenedBf16x16>, n0, n1);
    else multiply_share(wp, xp, m, n, k, p.out, avx2_tiles<Bf16>, n0, n1);
  } else {
    const Bf16* wp = w.data_ptr<Bf16>();
    if (isa == Isa::Avx512Bf16) multiply_share(wp, static_cast<const Bf16*>(p.x), m, n, k, p.out, avx512_tiles<Bf16x32>, n0, n1);
    else multiply_share(wp, x_f32, m, n, k, p.out, avx2_tiles<Bf16>, n0, n1);
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
  const int64_t max_rows = few_rows_matmul_isa() == Isa::Avx512Bf16 ? kFewRowsMatmulMaxRows : kFewRowsMatmulDecodeRows;
  if (x.numel() > max_rows * x.size(-1)) return false;
  if (bias.defined() && (bias.scalar_type() != weight.scalar_type() || bias.numel() != weight.size(0) ||
                         !bias.device().is_cpu()))
    return false;
  if (torch::GradMode::is_enabled() &&
      (x.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad())))
    return false;
  return true;
}

void few_rows_matmuls(const std::vector<FewRowsProduct>& products, FewRowsIsa isa) {
  if (isa == Isa::None || static_cast<int>(isa) < static_cast<int>(few_rows_matmul_isa()))
    throw Error(std::string("few_rows_matmul: this CPU has no ") + to_string(isa) + " kernel (its best is " +
                to_string(few_rows_matmul_isa()) + ")");
  // bf16 weights on AVX2 multiply fp32 x: each such x widened once, before the threads start.
  std::vector<std::vector<float>> widened(products.size());
  for (std::size_t i = 0; i < products.size(); ++i) {
    const FewRowsProduct& p = products[i];
    if (isa != Isa::Avx2 || p.weight->scalar_type() != torch::kBFloat16 || p.widen_bf16_weights) continue;
    const auto* x = static_cast<const c10::BFloat16*>(p.x);
    widened[i].assign(x, x + p.rows * p.weight->size(1));
  }
  const int threads = std::max(1, at::get_num_threads());
  run_parts_spinning(threads, [&](int part) {
    for (std::size_t i = 0; i < products.size(); ++i) {
      const int64_t n = products[i].weight->size(0);
      const int parts = few_rows_share_parts(n, threads);
      if (part >= parts) continue;
      product_share(products[i], widened[i].data(), isa, n * part / parts, n * (part + 1) / parts);
    }
  });
}

template <typename T>
void few_rows_finish(const float* acc, const T* bias, int64_t rows, int64_t n, T* out) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < n; ++i) {
      float v = acc[r * n + i];
      if (bias != nullptr) v += static_cast<float>(bias[i]);
      out[r * n + i] = static_cast<T>(v);
    }
}

template void few_rows_finish(const float*, const float*, int64_t, int64_t, float*);
template void few_rows_finish(const float*, const c10::BFloat16*, int64_t, int64_t, c10::BFloat16*);

torch::Tensor few_rows_matmul(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              FewRowsIsa isa) {
  const int64_t k = x.size(-1), n = weight.size(0);
  const torch::Tensor x2 = x.reshape({-1, k}).contiguous();
  const torch::Tensor w = weight.contiguous();
  const int64_t m = x2.size(0);
  const bool widen = x.scalar_type() == torch::kFloat32 && w.scalar_type() == torch::kBFloat16;
  torch::Tensor acc = torch::empty({m, n}, x.options().dtype(torch::kFloat32));
  few_rows_matmuls({FewRowsProduct{x2.data_ptr(), m, &w, acc.data_ptr<float>(), widen}}, isa);
  const torch::Tensor b = bias.defined() ? bias.contiguous() : bias;
  torch::Tensor out = x.scalar_type() == torch::kFloat32 ? acc : torch::empty({m, n}, x.options());
  if (x.scalar_type() == torch::kFloat32)
    few_rows_finish(acc.data_ptr<float>(), b.defined() ? b.data_ptr<float>() : nullptr, m, n, out.data_ptr<float>());
  else
    few_rows_finish(acc.data_ptr<float>(), b.defined() ? b.data_ptr<c10::BFloat16>() : nullptr, m, n,
                    out.data_ptr<c10::BFloat16>());
  std::vector<int64_t> sizes = x.sizes().vec();
  sizes.back() = n;
  return out.view(sizes);
}

}  // namespace psy
