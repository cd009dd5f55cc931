// Horizontal sums of SIMD registers for the CPU kernels that pick their instruction set at run time
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

// The halves are taken with masked extracts: GCC 12's unmasked ones (and so _mm512_castps512_ps256
// and _mm512_reduce_add_ps) warn about an uninitialised operand in its own header.
__attribute__((target("avx512f,avx2,fma"), always_inline)) inline float sum_lanes_avx512(__m512 v) {
  const __m512d d = _mm512_castps_pd(v);
  const __m256 low = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xFF, d, 0));
  const __m256 high = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xFF, d, 1));
  return sum_lanes_avx2(_mm256_add_ps(low, high));
}

}  // namespace psy
