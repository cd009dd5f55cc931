// A PRNG and shuffle whose algorithms psy fixes, so that every seeded choice (splits, task
// mixtures, bootstrap resamples, dropout seeds) is identical across compilers and platforms.
// std::shuffle and the standard distributions are implementation-defined; these are not.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace psy {

// SplitMix64 seeding into xoshiro256** (Blackman & Vigna).
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next_u64();
  // Uniform integer in [0, bound) by rejection (no modulo bias). bound must be > 0.
  uint64_t uniform_below(uint64_t bound);
  // Uniform double in [0, 1) with 53 random bits.
  double uniform01();

 private:
  uint64_t s_[4];
};

// Fisher-Yates from the last element down, using Rng::uniform_below.
template <typename T>
void shuffle_in_place(std::vector<T>& items, Rng& rng) {
  for (std::size_t i = items.size(); i > 1; --i) {
    std::size_t j = static_cast<std::size_t>(rng.uniform_below(i));
    std::swap(items[i - 1], items[j]);
  }
}

}  // namespace psy
