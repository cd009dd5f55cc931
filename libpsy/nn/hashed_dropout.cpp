#include "libpsy/nn/hashed_dropout.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "libpsy/core/error.h"
#include "libpsy/core/cpu_features.h"

namespace psy {

namespace {

// A 32-bit integer finaliser (xor-shift-multiply, two multiplications), applied twice below with
// the seed's halves mixed in between: consecutive seeds or indices give unrelated masks, and the
// loop over a span vectorises (32-bit multiplies).
inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

inline uint32_t hash_of(uint32_t low_index, uint32_t key0, uint32_t key1) {
  return mix32(mix32((low_index * 0x9e3779b1U) ^ key0) ^ key1);
}

// The seed's two halves; the index's upper 32 bits (spans past 2^32 elements) folded into the second.
inline uint32_t key0_of(const HashedDropout& d) { return static_cast<uint32_t>(d.seed); }
inline uint32_t key1_of(const HashedDropout& d, uint32_t high_index) {
  return static_cast<uint32_t>(d.seed >> 32) ^ mix32(high_index + 0x632be5abU);
}

// One stretch of indices whose upper 32 bits are constant. Written so that GCC vectorises it (a
// multiply by 0 or scale, not a branch; x * 0 as torch's dropout computes it); compiled twice (AVX2
// and the baseline) and picked at run time.
#define PSY_DROPOUT_LOOP                                                  \
  for (int64_t k = 0; k < n; ++k) {                                       \
    const uint32_t h = hash_of(low + static_cast<uint32_t>(k), key0, key1); \
    out[k] = x[k] * (h >= threshold ? scale : 0.0f);                      \
  }

__attribute__((target("avx2"))) void dropout_stretch_avx2(const float* x, float* out, int64_t n, uint32_t low,
                                                          uint32_t key0, uint32_t key1, uint32_t threshold,
                                                          float scale) {
  PSY_DROPOUT_LOOP
}

void dropout_stretch_baseline(const float* x, float* out, int64_t n, uint32_t low, uint32_t key0, uint32_t key1,
                              uint32_t threshold, float scale) {
  PSY_DROPOUT_LOOP
}

#undef PSY_DROPOUT_LOOP

}  // namespace

HashedDropout make_hashed_dropout(uint64_t seed, double p) {
  if (!(p >= 0.0 && p < 1.0)) throw Error("dropout: " + expected_found("a probability in [0, 1)", std::to_string(p)));
  HashedDropout d;
  d.seed = seed;
  d.threshold = static_cast<uint32_t>(std::min(std::llround(p * 4294967296.0), 4294967295LL));
  d.scale = static_cast<float>(1.0 / (1.0 - p));
  return d;
}

bool hashed_dropout_keeps(const HashedDropout& d, uint64_t index) {
  const uint32_t h = hash_of(static_cast<uint32_t>(index), key0_of(d), key1_of(d, static_cast<uint32_t>(index >> 32)));
  return h >= d.threshold;
}

void apply_hashed_dropout(const HashedDropout& d, const float* x, float* out, int64_t n, uint64_t first) {
  const bool avx2 = cpu_features().avx2_fma;
  while (n > 0) {
    // Up to the next multiple of 2^32 in the index, where the upper half changes.
    const uint64_t to_boundary = (uint64_t{1} << 32) - (first & 0xffffffffULL);
    const int64_t len = static_cast<int64_t>(std::min<uint64_t>(static_cast<uint64_t>(n), to_boundary));
    const uint32_t low = static_cast<uint32_t>(first), key0 = key0_of(d), key1 = key1_of(d, static_cast<uint32_t>(first >> 32));
    if (avx2)
      dropout_stretch_avx2(x, out, len, low, key0, key1, d.threshold, d.scale);
    else
      dropout_stretch_baseline(x, out, len, low, key0, key1, d.threshold, d.scale);
    x += len;
    out += len;
    n -= len;
    first += static_cast<uint64_t>(len);
  }
}

}  // namespace psy
