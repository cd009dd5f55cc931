#include "libpsy/nn/decode_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <immintrin.h>

#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>

#include "libpsy/core/spinning_pool.h"
#include "libpsy/core/cpu_features.h"
#include "libpsy/nn/simd_lanes.h"

namespace psy {
namespace {

#define PSY_TARGET_AVX512F __attribute__((target("avx512f,avx2,fma")))

constexpr int64_t kMaxQueryRows = 256;

PSY_TARGET_AVX512F inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
PSY_TARGET_AVX512F inline __m512 load16(const c10::BFloat16* p) {
  return widen_bf16_avx512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

inline float round_to(float x, float*) { return x; }
inline float round_to(float x, c10::BFloat16*) { return static_cast<float>(c10::BFloat16(x)); }

// The 16 partial sums of a . b (d a multiple of 16): even and odd 16-value steps, added.
template <typename T>
PSY_TARGET_AVX512F inline __m512 dot_lanes(const T* a, const T* b, int64_t d) {
  __m512 even = _mm512_setzero_ps(), odd = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= d; i += 32) {
    even = _mm512_fmadd_ps(load16(a + i), load16(b + i), even);
    odd = _mm512_fmadd_ps(load16(a + i + 16), load16(b + i + 16), odd);
  }
  if (i < d) even = _mm512_fmadd_ps(load16(a + i), load16(b + i), even);
  return _mm512_add_ps(even, odd);
}

// Each lane rounded to bf16 and back, as c10::BFloat16(float) rounds (to nearest even; NaN stays NaN).
PSY_TARGET_AVX512F inline __m512 round_lanes(__m512 x, float*) { return x; }
PSY_TARGET_AVX512F inline __m512 round_lanes(__m512 x, c10::BFloat16*) {
  const __m512i bits = _mm512_castps_si512(x);
  const __m512i odd = _mm512_and_si512(_mm512_maskz_srli_epi32(0xFFFF, bits, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_and_si512(_mm512_add_epi32(bits, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7FFF))),
                                           _mm512_set1_epi32(static_cast<int>(0xFFFF0000u)));
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_castsi512_ps(_mm512_mask_mov_epi32(rounded, nan, _mm512_set1_epi32(0x7FC00000)));
}

// e^x for x <= 0 in every lane (softmax after subtracting the largest score): Cody-Waite reduction
// to x = n ln 2 + r, |r| <= ln 2 / 2, and Cephes's degree-6 polynomial for e^r (within about 1 ulp,
// like LibTorch's vectorised softmax; glibc's expf, one key at a time, cost a fifth of a decode
// step's attention). Below -87.34 (e^x under FLT_MIN), -inf included, it gives 0.
PSY_TARGET_AVX512F inline __m512 exp_nonpositive(__m512 x) {
  const __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.33654f), _CMP_LT_OQ);
  x = _mm512_maskz_max_ps(0xFFFF, x, _mm512_set1_ps(-87.33654f));
  const __m512 n = _mm512_maskz_roundscale_ps(0xFFFF, _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  return _mm512_maskz_mov_ps(static_cast<__mmask16>(~tiny), _mm512_maskz_scalef_ps(0xFFFF, y, n));
}

struct Shapes : DecodeAttentionShape {
  float scale;
};

// Keys and values are asked for (into L2) this many rows ahead of the one being read, within the
// pair's keys: a decode step reads every sequence's cache once from memory, in short rows.
constexpr int64_t kPrefetchRows = 32;

template <typename T>
PSY_TARGET_AVX512F inline void prefetch_row(const T* p, int64_t d) {
  const char* c = reinterpret_cast<const char*>(p);
  for (int64_t at = 0; at < d * static_cast<int64_t>(sizeof(T)); at += 64) _mm_prefetch(c + at, _MM_HINT_T1);
}

// One query row of a (sequence, key/value head) pair: what it reads and where it writes.
template <typename T>
struct QueryRow {
  const T* q;
  const float* mask;      // additive, one per key; null: causal, keys 0 .. last_visible
  int64_t last_visible;
  T* out;
};

// Keys and values are read in runs of about this many bytes, each run by every query row of the pair
// in turn while it is in L1 (instead of each row streaming the whole cache through L2 again).
constexpr int64_t kRunBytes = 16 * 1024;
// The query rows taken together (their running maxima stay in registers).
constexpr int64_t kRowsTogether = 16;

// A masked key (the mask's lowest float: padding, another prompt's stale columns) scores lowest():
// any finite score plus lowest() rounds to it, and its exp underflows to 0.
constexpr float kMasked = std::numeric_limits<float>::lowest();

// The lanes of a 16-key block that hold keys when `count` keys are left.
inline __mmask16 lanes_of(int64_t count) { return static_cast<__mmask16>((1u << std::min<int64_t>(16, count)) - 1u); }

// Which of a block's keys (lanes `in_range`, mask values m) are visible: not masked.
PSY_TARGET_AVX512F inline __mmask16 visible_lanes(__m512 m, __mmask16 in_range) {
  return _mm512_mask_cmp_ps_mask(in_range, m, _mm512_set1_ps(kMasked), _CMP_NEQ_OQ);
}

// Scores of one query row for keys [begin, end), 16 at a time (begin a multiple of 16); a block
// whose keys are all masked needs no product. Returns the lane-wise running maximum.
template <typename T>
PSY_TARGET_AVX512F __m512 score_keys(const Shapes& s, const QueryRow<T>& row, const T* k, int64_t begin, int64_t end,
                                     bool prefetch, float* scores, __m512 top) {
  const int64_t d = s.dim;
  const __m512 masked = _mm512_set1_ps(kMasked), minus_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  for (int64_t j0 = begin; j0 < end; j0 += 16) {
    const __mmask16 in_range = lanes_of(end - j0);
    __m512 mask_row = _mm512_setzero_ps();
    __mmask16 live = in_range;
    if (row.mask != nullptr) {
      mask_row = _mm512_maskz_loadu_ps(in_range, row.mask + j0);
      live = visible_lanes(mask_row, in_range);
    }
    __m512 x = masked;
    if (live != 0) {
      __m512 parts[16];
      for (int64_t i = 0; i < 16; ++i) {
        const int64_t j = j0 + i;
        if (prefetch && j + kPrefetchRows < s.keys) prefetch_row(k + (j + kPrefetchRows) * s.k_stride[2], d);
        parts[i] = (live >> i) & 1u ? dot_lanes(row.q, k + j * s.k_stride[2], d) : _mm512_setzero_ps();
      }
      // As attend_plain: the product in the model's dtype, then scaled and masked in fp32.
      x = _mm512_mul_ps(round_lanes(sum_lanes_of_16_avx512(parts), row.out), _mm512_set1_ps(s.scale));
      if (row.mask != nullptr) {
        x = _mm512_mask_blend_ps(live, masked, _mm512_add_ps(x, mask_row));
      } else {
        const __m512i index = _mm512_add_epi32(lane, _mm512_set1_epi32(static_cast<int>(j0)));
        const __mmask16 future =
            _mm512_cmp_epi32_mask(index, _mm512_set1_epi32(static_cast<int>(row.last_visible)), _MM_CMPINT_GT);
        x = _mm512_mask_mov_ps(x, future, minus_inf);
      }
    }
    _mm512_mask_storeu_ps(scores + j0, in_range, x);
    top = _mm512_mask_max_ps(top, in_range, top, x);
  }
  return top;
}

// Turns n scores into e^(score - top) in place; returns 1 / their sum.
PSY_TARGET_AVX512F inline float softmax_weights(float* scores, int64_t n, float top) {
  const __m512 top_lanes = _mm512_set1_ps(top);
  const bool skip_masked = top > kMasked;  // else every key is masked and all weigh the same
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j0 = 0; j0 < n; j0 += 16) {
    const __mmask16 in_range = lanes_of(n - j0);
    const __m512 x = _mm512_maskz_loadu_ps(in_range, scores + j0);
    __mmask16 keep = in_range;
    if (skip_masked) keep = visible_lanes(x, keep);
    const __m512 e = _mm512_maskz_mov_ps(keep, exp_nonpositive(_mm512_sub_ps(x, top_lanes)));
    _mm512_mask_storeu_ps(scores + j0, in_range, e);
    sum = _mm512_add_ps(sum, e);
  }
  return 1.0f / sum_lanes_avx512(sum);
}

// sums[0 .. d) += the values of keys [begin, end), each weighted by its probability (its weight
// times inv, rounded to v's dtype); a key of probability 0 is skipped.
template <typename T>
PSY_TARGET_AVX512F void add_values(const Shapes& s, const T* v, const float* weights, float inv, int64_t begin,
                                   int64_t end, bool prefetch, float* sums, T* dtype_tag) {
  const int64_t d = s.dim, vecs = d / 16;
  __m512 acc[kDecodeAttentionMaxHeadDim / 16];
  for (int64_t i = 0; i < vecs; ++i) acc[i] = _mm512_loadu_ps(sums + 16 * i);
  for (int64_t j = begin; j < end; ++j) {
    const float p = round_to(weights[j] * inv, dtype_tag);
    if (prefetch && j + kPrefetchRows < s.keys) prefetch_row(v + (j + kPrefetchRows) * s.v_stride[2], d);
    if (p == 0.0f) continue;
    const __m512 pv = _mm512_set1_ps(p);
    const T* vj = v + j * s.v_stride[2];
    for (int64_t i = 0; i < vecs; ++i) acc[i] = _mm512_fmadd_ps(pv, load16(vj + 16 * i), acc[i]);
  }
  for (int64_t i = 0; i < vecs; ++i) _mm512_storeu_ps(sums + 16 * i, acc[i]);
}

// Where each sequence's keys begin: the first 16-key block holding a key that one of its query rows
// sees (before it lie a right-aligned row's padding and stale columns, whose blocks would only add
// exact zeros); 0 without a mask, and 0 when a row sees no key at all (then every key weighs the
// same, as in attend_plain).
PSY_TARGET_AVX512F std::vector<int64_t> first_blocks(const Shapes& s, const float* mask) {
  std::vector<int64_t> first(static_cast<size_t>(s.batch), 0);
  if (mask == nullptr) return first;
  for (int64_t b = 0; b < s.batch; ++b) {
    int64_t block = s.keys;
    for (int64_t t = 0; t < s.tokens; ++t) {
      const float* row = mask + (b * s.tokens + t) * s.keys;
      int64_t j0 = 0;
      for (; j0 < s.keys; j0 += 16) {
        const __mmask16 in_range = lanes_of(s.keys - j0);
        if (visible_lanes(_mm512_maskz_loadu_ps(in_range, row + j0), in_range) != 0) break;
      }
      block = j0 >= s.keys ? 0 : std::min(block, j0);
      if (block == 0) break;
    }
    first[static_cast<size_t>(b)] = block;
  }
  return first;
}

// The (sequence, key/value head) pairs cut into `parts` contiguous ranges of about equal work (keys
// read from the first block on), so a short row's pairs do not leave one thread waiting for the
// other: boundaries [parts + 1].
std::vector<int64_t> split_pairs_by_work(const Shapes& s, const std::vector<int64_t>& first, int parts) {
  const int64_t pairs = s.batch * s.kv_heads;
  std::vector<int64_t> done(static_cast<size_t>(pairs + 1), 0);  // work of pairs [0, i)
  for (int64_t p = 0; p < pairs; ++p)
    done[static_cast<size_t>(p + 1)] = done[static_cast<size_t>(p)] + (s.keys - first[static_cast<size_t>(p / s.kv_heads)]);
  std::vector<int64_t> bounds(static_cast<size_t>(parts + 1), pairs);
  bounds[0] = 0;
  for (int part = 1; part < parts; ++part) {
    const int64_t share = done.back() * part / parts;
    bounds[static_cast<size_t>(part)] = std::lower_bound(done.begin(), done.end(), share) - done.begin();
  }
  return bounds;
}

// Up to kRowsTogether query rows of one pair: scores run by run, softmax per row, values run by run,
// all from key `begin` (a multiple of 16) on.
template <typename T>
PSY_TARGET_AVX512F void attend_rows(const Shapes& s, const QueryRow<T>* rows, int64_t count, const T* k, const T* v,
                                    int64_t begin, std::vector<float>& scores, std::vector<float>& sums) {
  const int64_t n = s.keys, d = s.dim;
  const int64_t run = std::max<int64_t>(16, kRunBytes / (d * static_cast<int64_t>(sizeof(T))) / 16 * 16);
  scores.resize(static_cast<size_t>(count * n));
  sums.assign(static_cast<size_t>(count * d), 0.0f);
  __m512 tops[kRowsTogether];
  for (int64_t r = 0; r < count; ++r) tops[r] = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t j0 = begin; j0 < n; j0 += run)
    for (int64_t r = 0; r < count; ++r)
      tops[r] = score_keys(s, rows[r], k, j0, std::min(n, j0 + run), r == 0, scores.data() + r * n, tops[r]);
  float inv[kRowsTogether];
  for (int64_t r = 0; r < count; ++r)
    inv[r] = softmax_weights(scores.data() + r * n + begin, n - begin, max_lane_avx512(tops[r]));
  for (int64_t j0 = begin; j0 < n; j0 += run)
    for (int64_t r = 0; r < count; ++r)
      add_values(s, v, scores.data() + r * n, inv[r], j0, std::min(n, j0 + run), r == 0, sums.data() + r * d,
                 rows[r].out);
  for (int64_t r = 0; r < count; ++r)
    for (int64_t i = 0; i < d; ++i) rows[r].out[i] = static_cast<T>(sums[static_cast<size_t>(r * d + i)]);
}

// Every query row of the (sequence, key/value head) pairs [first, last).
template <typename T>
void attend_pairs(const Shapes& s, const T* q, const T* k, const T* v, const float* mask,
                  const std::vector<int64_t>& first_block, int64_t first, int64_t last, T* out) {
  thread_local std::vector<float> scores, sums;
  const int64_t group = s.heads / s.kv_heads;
  std::vector<QueryRow<T>> rows;
  for (int64_t pair = first; pair < last; ++pair) {
    const int64_t b = pair / s.kv_heads, kvh = pair % s.kv_heads;
    rows.clear();
    for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h)
      for (int64_t t = 0; t < s.tokens; ++t)
        rows.push_back(QueryRow<T>{q + ((b * s.heads + h) * s.tokens + t) * s.dim,             // q [B, H, T, D]
                                   mask ? mask + (b * s.tokens + t) * s.keys : nullptr,         // mask [B, 1, T, S]
                                   s.keys - s.tokens + t,                                       // causal, without a mask
                                   out + ((b * s.tokens + t) * s.heads + h) * s.dim});          // out [B, T, H, D]
    const T* kb = k + b * s.k_stride[0] + kvh * s.k_stride[1];
    const T* vb = v + b * s.v_stride[0] + kvh * s.v_stride[1];
    for (size_t r0 = 0; r0 < rows.size(); r0 += kRowsTogether)
      attend_rows(s, rows.data() + r0, std::min<int64_t>(kRowsTogether, static_cast<int64_t>(rows.size() - r0)), kb, vb,
                  first_block[static_cast<size_t>(b)], scores, sums);
  }
}

}  // namespace

bool decode_attention_applies(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& mask) {
  if (!cpu_features().avx512f) return false;
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4) return false;
  if (!q.device().is_cpu() || !k.device().is_cpu() || !v.device().is_cpu()) return false;
  const auto dtype = q.scalar_type();
  if ((dtype != torch::kFloat32 && dtype != torch::kBFloat16) || k.scalar_type() != dtype || v.scalar_type() != dtype)
    return false;
  const int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3), kv = k.size(1), n = k.size(2);
  if (k.size(0) != b || v.size(0) != b || v.size(1) != kv || v.size(2) != n || k.size(3) != d || v.size(3) != d) return false;
  if (kv == 0 || h % kv != 0 || d == 0 || d % 16 != 0 || d > kDecodeAttentionMaxHeadDim || n < t || n == 0) return false;
  if (b * h * t > kMaxQueryRows || k.stride(3) != 1 || v.stride(3) != 1) return false;
  if (mask.defined() && (mask.scalar_type() != torch::kFloat32 || !mask.device().is_cpu() || mask.dim() != 4 ||
                         mask.size(0) != b || mask.size(1) != 1 || mask.size(2) != t || mask.size(3) != n))
    return false;
  if (torch::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad())) return false;
  return true;
}

template <typename T>
void decode_attention_raw(const DecodeAttentionShape& shape, const T* q, const T* k, const T* v, const float* mask,
                          T* out) {
  Shapes s;
  static_cast<DecodeAttentionShape&>(s) = shape;
  s.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.dim)));
  const std::vector<int64_t> first_block = first_blocks(s, mask);
  const int parts = static_cast<int>(std::min<int64_t>(at::get_num_threads(), s.batch * s.kv_heads));
  const std::vector<int64_t> bounds = split_pairs_by_work(s, first_block, parts);
  run_parts_spinning(parts, [&](int part) {
    attend_pairs(s, q, k, v, mask, first_block, bounds[static_cast<size_t>(part)], bounds[static_cast<size_t>(part + 1)], out);
  });
}

template void decode_attention_raw(const DecodeAttentionShape&, const float*, const float*, const float*, const float*,
                                   float*);
template void decode_attention_raw(const DecodeAttentionShape&, const c10::BFloat16*, const c10::BFloat16*,
                                   const c10::BFloat16*, const float*, c10::BFloat16*);

torch::Tensor decode_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const torch::Tensor& mask) {
  const torch::Tensor qc = q.contiguous();
  const torch::Tensor mc = mask.defined() ? mask.contiguous() : mask;
  DecodeAttentionShape s{q.size(0), q.size(1), q.size(2), q.size(3), k.size(1), k.size(2), {}, {}};
  for (int i = 0; i < 3; ++i) {
    s.k_stride[i] = k.stride(i);
    s.v_stride[i] = v.stride(i);
  }
  torch::Tensor out = torch::empty({s.batch, s.tokens, s.heads, s.dim}, q.options());
  const float* mp = mc.defined() ? mc.data_ptr<float>() : nullptr;
  if (q.scalar_type() == torch::kFloat32)
    decode_attention_raw(s, qc.data_ptr<float>(), k.data_ptr<float>(), v.data_ptr<float>(), mp, out.data_ptr<float>());
  else
    decode_attention_raw(s, qc.data_ptr<c10::BFloat16>(), k.data_ptr<c10::BFloat16>(), v.data_ptr<c10::BFloat16>(), mp,
                         out.data_ptr<c10::BFloat16>());
  return out.transpose(1, 2);
}

}  // namespace psy
