#include "libpsy/nn/decode_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <immintrin.h>

#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>

#include "libpsy/core/spinning_pool.h"
#include "libpsy/nn/cpu_features.h"
#include "libpsy/nn/simd_lanes.h"

namespace psy {
namespace {

#define PSY_TARGET_AVX512F __attribute__((target("avx512f,avx2,fma")))

constexpr int64_t kMaxQueryRows = 256;
constexpr int64_t kMaxHeadDim = 256;  // the output accumulators of one query row stay in registers

PSY_TARGET_AVX512F inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
// bf16 widened exactly to fp32 (masked forms: GCC 12's unmasked ones warn about an uninitialised
// operand in its own header).
PSY_TARGET_AVX512F inline __m512 load16(const c10::BFloat16* p) {
  const __m512i wide = _mm512_maskz_cvtepu16_epi32(0xFFFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, wide, 16));
}

inline float round_to(float x, float*) { return x; }
inline float round_to(float x, c10::BFloat16*) { return static_cast<float>(c10::BFloat16(x)); }

// d is a multiple of 16.
template <typename T>
PSY_TARGET_AVX512F float dot(const T* a, const T* b, int64_t d) {
  __m512 even = _mm512_setzero_ps(), odd = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= d; i += 32) {
    even = _mm512_fmadd_ps(load16(a + i), load16(b + i), even);
    odd = _mm512_fmadd_ps(load16(a + i + 16), load16(b + i + 16), odd);
  }
  if (i < d) even = _mm512_fmadd_ps(load16(a + i), load16(b + i), even);
  return sum_lanes_avx512(_mm512_add_ps(even, odd));
}

struct Shapes {
  int64_t batch, heads, tokens, dim, kv_heads, keys;
  int64_t k_stride[3], v_stride[3];  // batch, head, key
  float scale;
};

// One query row: scores over the keys, softmax, the probability-weighted sum of the values.
template <typename T>
PSY_TARGET_AVX512F void attend_row(const Shapes& s, const T* q, const T* k, const T* v, const float* mask, int64_t t,
                                   std::vector<float>& scores, T* out) {
  const int64_t n = s.keys, d = s.dim;
  const int64_t last_visible = n - s.tokens + t;  // causal, without a mask
  scores.resize(static_cast<size_t>(n));
  // A masked key (the mask's lowest float: padding, another prompt's stale columns) needs no
  // product: any finite score plus lowest() rounds to lowest(), and its exp underflows to 0.
  constexpr float kMasked = std::numeric_limits<float>::lowest();
  float top = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) {
    if (mask != nullptr && mask[j] == kMasked) {
      scores[static_cast<size_t>(j)] = kMasked;
      top = std::max(top, kMasked);
      continue;
    }
    // As attend_plain: the product in the model's dtype, then scaled and masked in fp32.
    float x = round_to(dot(q, k + j * s.k_stride[2], d), out) * s.scale;
    if (mask != nullptr) x = x + mask[j];
    else if (j > last_visible) x = -std::numeric_limits<float>::infinity();
    scores[static_cast<size_t>(j)] = x;
    top = std::max(top, x);
  }
  float sum = 0.0f;
  const bool skip_masked = top > kMasked;  // else every key is masked and all weigh the same
  for (int64_t j = 0; j < n; ++j) {
    const float x = scores[static_cast<size_t>(j)];
    const float e = skip_masked && x == kMasked ? 0.0f : std::exp(x - top);
    scores[static_cast<size_t>(j)] = e;
    sum += e;
  }
  const float inv = 1.0f / sum;
  __m512 acc[kMaxHeadDim / 16];
  const int64_t vecs = d / 16;
  for (int64_t i = 0; i < vecs; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; ++j) {
    const float p = round_to(scores[static_cast<size_t>(j)] * inv, out);  // probabilities in v's dtype
    if (p == 0.0f) continue;
    const __m512 pv = _mm512_set1_ps(p);
    const T* vj = v + j * s.v_stride[2];
    for (int64_t i = 0; i < vecs; ++i) acc[i] = _mm512_fmadd_ps(pv, load16(vj + 16 * i), acc[i]);
  }
  alignas(64) float lanes[kMaxHeadDim];
  for (int64_t i = 0; i < vecs; ++i) _mm512_store_ps(lanes + 16 * i, acc[i]);
  for (int64_t i = 0; i < d; ++i) out[i] = static_cast<T>(lanes[i]);
}

// Every query row of the (sequence, key/value head) pairs [first, last).
template <typename T>
void attend_pairs(const Shapes& s, const T* q, const T* k, const T* v, const float* mask, int64_t first, int64_t last,
                  T* out) {
  thread_local std::vector<float> scores;
  const int64_t group = s.heads / s.kv_heads;
  for (int64_t pair = first; pair < last; ++pair) {
    const int64_t b = pair / s.kv_heads, kvh = pair % s.kv_heads;
    const T* kb = k + b * s.k_stride[0] + kvh * s.k_stride[1];
    const T* vb = v + b * s.v_stride[0] + kvh * s.v_stride[1];
    for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h)
      for (int64_t t = 0; t < s.tokens; ++t) {
        const T* qr = q + ((b * s.heads + h) * s.tokens + t) * s.dim;           // q [B, H, T, D]
        T* o = out + ((b * s.tokens + t) * s.heads + h) * s.dim;                // out [B, T, H, D]
        const float* m = mask ? mask + (b * s.tokens + t) * s.keys : nullptr;  // mask [B, 1, T, S]
        attend_row(s, qr, kb, vb, m, t, scores, o);
      }
  }
}

template <typename T>
void run(const Shapes& s, const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
         const torch::Tensor& mask, torch::Tensor& out) {
  const T* qp = q.data_ptr<T>();
  const T* kp = k.data_ptr<T>();
  const T* vp = v.data_ptr<T>();
  const float* mp = mask.defined() ? mask.data_ptr<float>() : nullptr;
  T* op = out.data_ptr<T>();
  const int64_t pairs = s.batch * s.kv_heads;
  run_ranges_spinning(pairs, at::get_num_threads(),
                      [&](int64_t first, int64_t last) { attend_pairs(s, qp, kp, vp, mp, first, last, op); });
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
  if (kv == 0 || h % kv != 0 || d == 0 || d % 16 != 0 || d > kMaxHeadDim || n < t || n == 0) return false;
  if (b * h * t > kMaxQueryRows || k.stride(3) != 1 || v.stride(3) != 1) return false;
  if (mask.defined() && (mask.scalar_type() != torch::kFloat32 || !mask.device().is_cpu() || mask.dim() != 4 ||
                         mask.size(0) != b || mask.size(1) != 1 || mask.size(2) != t || mask.size(3) != n))
    return false;
  if (torch::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad())) return false;
  return true;
}

torch::Tensor decode_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const torch::Tensor& mask) {
  const torch::Tensor qc = q.contiguous();
  const torch::Tensor mc = mask.defined() ? mask.contiguous() : mask;
  Shapes s{q.size(0), q.size(1), q.size(2), q.size(3), k.size(1), k.size(2), {}, {}, 0.0f};
  for (int i = 0; i < 3; ++i) {
    s.k_stride[i] = k.stride(i);
    s.v_stride[i] = v.stride(i);
  }
  s.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.dim)));
  torch::Tensor out = torch::empty({s.batch, s.tokens, s.heads, s.dim}, q.options());
  if (q.scalar_type() == torch::kFloat32)
    run<float>(s, qc, k, v, mc, out);
  else
    run<c10::BFloat16>(s, qc, k, v, mc, out);
  return out.transpose(1, 2);
}

}  // namespace psy
