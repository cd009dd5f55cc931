// Horizontal sums (and a maximum) of SIMD registers, and bf16 widened to fp32, for the CPU kernels that pick their instruction set at run time
// (few_rows_matmul.cpp, decode_attention.cpp): each function carries its own target attribute, so
// this header needs no -m flags. They are always inlined: a kernel whose target lacks one of theirs
// must fail to compile, not call them out of line and return with its upper vector state dirty
// (tests/nn/upper_vector_state.h says why that is slow).
#pragma once

#include <immintrin.h>

namespace psy {

__attribute__((target("avx2,fma"), always_inline)) inline float sum_lanes_avx2(__m256 v) {
  const __m128 four = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 two = _mm_add_ps(four, _mm_movehl_ps(four, four));
  return _mm_cvtss_f32(_mm_add_ss(two, _mm_shuffle_ps(two, two, 1)));
}

#define PSY_SIMD_LANES_AVX512 __attribute__((target("avx512f,avx2,fma"), always_inline)) inline

// The 256-bit halves, taken with masked extracts: GCC 12's unmasked ones (and so
// _mm512_castps512_ps256, _mm512_reduce_add_ps and _mm512_reduce_max_ps) warn about an
// uninitialised operand in its own header.
PSY_SIMD_LANES_AVX512 __m256 low_half(__m512 v) {
  return _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xFF, _mm512_castps_pd(v), 0));
}
PSY_SIMD_LANES_AVX512 __m256 high_half(__m512 v) {
  return _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xFF, _mm512_castps_pd(v), 1));
}

PSY_SIMD_LANES_AVX512 float sum_lanes_avx512(__m512 v) {
  return sum_lanes_avx2(_mm256_add_ps(low_half(v), high_half(v)));
}

// Lane i of the result is the sum of v[i]'s lanes, added in the pairs sum_lanes_avx512 adds them
// (256-bit halves, 128-bit halves, lanes 0+2 and 1+3, then 0+1), so each equals sum_lanes_avx512(v[i])
// bit for bit: 15 shuffle pairs and adds for 16 sums instead of 16 separate reductions.
PSY_SIMD_LANES_AVX512 __m512 sum_lanes_of_16_avx512(const __m512* v) {
  __m512 halves[8], quarters[4], pairs[2];
  for (int i = 0; i < 8; ++i)
    halves[i] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xFFFF, v[2 * i], v[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                              _mm512_maskz_shuffle_f32x4(0xFFFF, v[2 * i], v[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  for (int i = 0; i < 4; ++i)
    quarters[i] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xFFFF, halves[2 * i], halves[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                                _mm512_maskz_shuffle_f32x4(0xFFFF, halves[2 * i], halves[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  for (int i = 0; i < 2; ++i)
    pairs[i] = _mm512_add_ps(_mm512_shuffle_ps(quarters[2 * i], quarters[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(quarters[2 * i], quarters[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512 sums = _mm512_add_ps(_mm512_shuffle_ps(pairs[0], pairs[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                    _mm512_shuffle_ps(pairs[0], pairs[1], _MM_SHUFFLE(3, 1, 3, 1)));
  // Lane 4k + m now holds v[4m + k]'s sum: transpose the 4 x 4 index grid back.
  const __m512i order = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
  return _mm512_maskz_permutexvar_ps(0xFFFF, order, sums);
}

// 16 bf16 values (their bits) widened exactly to fp32: a bf16 value is an fp32 value with the low 16
// bits zero. Masked forms: GCC 12's unmasked ones warn about an uninitialised operand in its header.
PSY_SIMD_LANES_AVX512 __m512 widen_bf16_avx512(__m256i bits) {
  return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, _mm512_maskz_cvtepu16_epi32(0xFFFF, bits), 16));
}

// The largest lane.
PSY_SIMD_LANES_AVX512 float max_lane_avx512(__m512 v) {
  const __m256 eight = _mm256_max_ps(low_half(v), high_half(v));
  const __m128 four = _mm_max_ps(_mm256_castps256_ps128(eight), _mm256_extractf128_ps(eight, 1));
  const __m128 two = _mm_max_ps(four, _mm_movehl_ps(four, four));
  return _mm_cvtss_f32(_mm_max_ss(two, _mm_shuffle_ps(two, two, 1)));
}

#undef PSY_SIMD_LANES_AVX512

}  // namespace psy
