// The horizontal reductions of libpsy/nn/simd_lanes.h: the 16-at-once sum gives each register's
// sum bit for bit as the one-register sum does (decode attention's scores rely on it), and the
// maximum is the largest lane.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>

#include "libpsy/core/cpu_features.h"
#include "libpsy/nn/simd_lanes.h"

namespace {

#define PSY_TEST_AVX512 __attribute__((target("avx512f,avx2,fma")))

// For 16 registers of random lanes of mixed magnitude: sum_lanes_of_16_avx512's lane i against
// sum_lanes_avx512(v[i]), and max_lane_avx512 against the largest of the lanes; counts mismatches.
PSY_TEST_AVX512 int mismatches(std::mt19937& rng) {
  std::uniform_real_distribution<float> mantissa(-1.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-20, 20);
  alignas(64) float lanes[16][16];
  for (auto& row : lanes)
    for (float& x : row) x = std::ldexp(mantissa(rng), exponent(rng));
  __m512 v[16];
  for (int i = 0; i < 16; ++i) v[i] = _mm512_load_ps(lanes[i]);
  alignas(64) float together[16];
  _mm512_store_ps(together, psy::sum_lanes_of_16_avx512(v));
  int bad = 0;
  for (int i = 0; i < 16; ++i) {
    const float one = psy::sum_lanes_avx512(v[i]);
    if (std::memcmp(&one, &together[i], sizeof(float)) != 0) ++bad;
    if (psy::max_lane_avx512(v[i]) != *std::max_element(lanes[i], lanes[i] + 16)) ++bad;
  }
  return bad;
}

}  // namespace

TEST_CASE("16 lane sums at once equal one at a time, bit for bit; the maximum is the largest lane", "[nn]") {
  if (!psy::cpu_features().avx512f) {
    WARN("SKIPPED: this CPU has no AVX-512F");
    return;
  }
  std::mt19937 rng(5);
  int bad = 0;
  for (int round = 0; round < 200; ++round) bad += mismatches(rng);
  CHECK(bad == 0);
}
