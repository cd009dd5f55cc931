// Issue 18, defect 14: ROUGE-L's LCS is bit-parallel, and gives exactly the length the plain
// dynamic programme gives (kept here as the reference), on random inputs of every shape.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "eval/rouge.h"
#include "libpsy/core/rng.h"

namespace {

// The O(n*m) table the library used before: the reference.
size_t lcs_dp(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<size_t> row(b.size() + 1, 0);
  for (const uint32_t x : a) {
    size_t diag = 0;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = x == b[j - 1] ? diag + 1 : std::max(up, row[j - 1]);
      diag = up;
    }
  }
  return row[b.size()];
}

std::vector<uint32_t> random_ids(psy::Rng& rng, size_t n, uint32_t alphabet) {
  std::vector<uint32_t> out(n);
  for (auto& x : out) x = static_cast<uint32_t>(rng.next_u64() % alphabet);
  return out;
}

}  // namespace

TEST_CASE("bit-parallel LCS equals the dynamic programme on random inputs", "[eval][rouge][issue18]") {
  psy::Rng rng(18);
  const size_t sizes[] = {0, 1, 2, 63, 64, 65, 127, 128, 129, 300, 1000, 8191, 8192, 8193, 9000};
  int compared = 0;
  for (size_t n : sizes) {
    for (size_t m : sizes) {
      if (n * m > 9000 * 1000) continue;  // keep the reference DP fast
      for (uint32_t alphabet : {2u, 5u, 50u, 5000u}) {
        const auto a = random_ids(rng, n, alphabet);
        const auto b = random_ids(rng, m, alphabet);
        INFO(n << " x " << m << ", alphabet " << alphabet);
        REQUIRE(psy::eval::lcs_length_ids(a, b) == lcs_dp(a, b));
        ++compared;
      }
    }
  }
  CHECK(compared > 300);
  // Two long inputs across several blocks of the shorter side, with shared runs.
  auto a = random_ids(rng, 20000, 30);
  auto b = a;
  std::reverse(b.begin() + 5000, b.begin() + 15000);
  CHECK(psy::eval::lcs_length_ids(a, b) == lcs_dp(a, b));
  CHECK(psy::eval::lcs_length_ids(a, a) == a.size());
}

TEST_CASE("string LCS and ROUGE-L keep their values (identical and disjoint texts)", "[eval][rouge][issue18]") {
  std::vector<std::string> a = {"the", "cat", "sat", "on", "the", "mat"};
  std::vector<std::string> b = {"the", "dog", "sat", "on", "a", "mat"};
  CHECK(psy::eval::lcs_length(a, b) == 4);
  auto s = psy::eval::rouge_l(a, b);
  CHECK(s.fmeasure == Approx(4.0 / 6.0));
  // A 1 MB-scale pair (about 200,000 tokens each) finishes: m/64 word operations per token.
  psy::Rng rng(7);
  std::vector<std::string> vocab;
  for (int i = 0; i < 3000; ++i) vocab.push_back("w" + std::to_string(i));
  std::vector<std::string> big_a, big_b;
  for (int i = 0; i < 200000; ++i) {
    big_a.push_back(vocab[rng.next_u64() % vocab.size()]);
    big_b.push_back(vocab[rng.next_u64() % vocab.size()]);
  }
  const size_t lcs = psy::eval::lcs_length(big_a, big_b);
  CHECK(lcs > 0);
  CHECK(lcs < big_a.size());
}
