// The decode-step attention kernel against attend_plain's composition (attention.cpp), for the
// shapes decoding gives it: grouped heads, a cache view with room to spare, a padding mask, a few
// new tokens without a mask (causal), fp32 and bf16.
#include <cmath>
#include <limits>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "libpsy/nn/decode_attention.h"
#include "tests/nn/upper_vector_state.h"

namespace {

// attend_plain's operations, in the inputs' dtype.
torch::Tensor reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& mask) {
  const int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3), kv = k.size(1), s = k.size(2), g = h / kv;
  torch::Tensor scores = torch::matmul(q.reshape({b, kv, g * t, d}), k.transpose(-1, -2)).to(torch::kFloat32) *
                         (1.0 / std::sqrt(double(d)));
  scores = scores.view({b, h, t, s});
  if (mask.defined()) {
    scores = scores + mask;
  } else if (t > 1) {
    torch::Tensor future = torch::ones({t, s}, torch::kBool).triu(1 + (s - t));
    scores = scores.masked_fill(future, -std::numeric_limits<float>::infinity());
  }
  torch::Tensor probs = torch::softmax(scores, -1).to(v.scalar_type()).view({b, kv, g * t, s});
  return torch::matmul(probs, v).view({b, h, t, d});
}

// k/v as the KV cache hands them out: a narrowed view of a longer buffer.
std::pair<torch::Tensor, torch::Tensor> cache_views(int64_t b, int64_t kv, int64_t s, int64_t d, torch::ScalarType dtype) {
  torch::Tensor kb = torch::randn({b, kv, s + 7, d}).to(dtype), vb = torch::randn({b, kv, s + 7, d}).to(dtype);
  return {kb.narrow(2, 0, s), vb.narrow(2, 0, s)};
}

}  // namespace

TEST_CASE("decode attention equals attend_plain's composition: grouped heads, cache views, padding mask, causal") {
  torch::NoGradGuard no_grad;
  torch::manual_seed(11);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    // Scores of spread 1, and of spread 40: most keys' weights underflow to 0.
    for (auto [t, spread] : {std::pair<int64_t, double>{1, 1.0}, {3, 1.0}, {1, 40.0}}) {
      INFO(c10::toString(dtype) << ", " << t << " new tokens, score spread " << spread);
      const int64_t b = 4, h = 9, kv = 3, s = 37, d = 64;
      torch::Tensor q = (torch::randn({b, t, h, d}) * spread).to(dtype).transpose(1, 2);  // as attention passes it
      auto [k, v] = cache_views(b, kv, s, d, dtype);
      // Left padding of different lengths per row, as continuous batching right-aligns its rows;
      // row 2 masked whole (every key weighs the same then, as in softmax over equal scores).
      torch::Tensor first = torch::tensor({0, 5, 37, 20}, torch::kInt64).view({b, 1, 1, 1});
      torch::Tensor allowed = torch::arange(s, torch::kInt64).view({1, 1, 1, s}) >= first;
      allowed = allowed & (torch::arange(s, torch::kInt64).view({1, 1, 1, s}) <=
                           (torch::arange(t, torch::kInt64) + (s - t)).view({1, 1, t, 1}));
      torch::Tensor mask = torch::where(allowed, torch::zeros({}), torch::full({}, std::numeric_limits<float>::lowest()));
      for (const torch::Tensor& m : {mask, torch::Tensor()}) {
        if (!psy::decode_attention_applies(q, k, v, m)) {
          WARN("decode attention needs AVX-512F; this CPU lacks it: skipped");
          return;
        }
        torch::Tensor got = psy::decode_attention(q, k, v, m);
        torch::Tensor want = reference(q, k, v, m);
        REQUIRE(got.sizes() == want.sizes());
        REQUIRE(got.scalar_type() == dtype);
        const double tol = dtype == torch::kFloat32 ? 1e-5 : 2e-2;
        CHECK(torch::allclose(got.to(torch::kFloat32), want.to(torch::kFloat32), tol, tol));
        // No copy when the caller lays the heads side by side again.
        CHECK(got.transpose(1, 2).is_contiguous());
      }
    }
  }
}

TEST_CASE("decode attention: masked columns in front of a row change nothing, bit for bit") {
  // Continuous batching right-aligns rows of different lengths in one cache: a short row's front
  // columns are masked. Its output must equal the same row attended alone, with no columns in front
  // (whole 16-key blocks of them, so the kernel's lanes line up the same).
  torch::NoGradGuard no_grad;
  torch::manual_seed(12);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    for (int64_t front : {16, 48, 96}) {
      INFO(c10::toString(dtype) << ", " << front << " masked columns in front");
      const int64_t h = 9, kv = 3, s = 53, d = 64;
      torch::Tensor q = torch::randn({1, 1, h, d}).to(dtype).transpose(1, 2);
      auto [k, v] = cache_views(1, kv, front + s, d, dtype);
      torch::Tensor allowed = torch::arange(front + s, torch::kInt64).view({1, 1, 1, front + s}) >= front;
      torch::Tensor mask = torch::where(allowed, torch::zeros({}), torch::full({}, std::numeric_limits<float>::lowest()));
      if (!psy::decode_attention_applies(q, k, v, mask)) {
        WARN("decode attention needs AVX-512F; this CPU lacks it: skipped");
        return;
      }
      torch::Tensor padded = psy::decode_attention(q, k, v, mask);
      torch::Tensor alone = psy::decode_attention(q, k.narrow(2, front, s), v.narrow(2, front, s), torch::zeros({1, 1, 1, s}));
      CHECK(torch::equal(padded, alone));
    }
  }
}

TEST_CASE("decode attention returns with the upper vector state clean") {
  // Else every SSE instruction after it pays a merge on Intel cores (tests/nn/upper_vector_state.h).
  const torch::Tensor q = torch::randn({1, 2, 1, 64}), k = torch::randn({1, 1, 10, 64}), v = torch::randn({1, 1, 10, 64});
  if (!psy::decode_attention_applies(q, k, v, {}) || !psy::test::upper_vector_state_dirty()) {
    WARN("SKIPPED: no AVX-512F, or this CPU does not report which vector state is in use");
    return;
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor out = psy::decode_attention(q, k, v, {});
  CHECK_FALSE(*psy::test::upper_vector_state_dirty());
}

TEST_CASE("decode attention declines what it does not cover") {
  torch::Tensor q = torch::randn({1, 4, 1, 64}), k = torch::randn({1, 2, 10, 64}), v = torch::randn({1, 2, 10, 64});
  CHECK_FALSE(psy::decode_attention_applies(torch::randn({1, 4, 1, 24}), torch::randn({1, 2, 10, 24}),
                                            torch::randn({1, 2, 10, 24}), {}));                      // head_dim not a multiple of 16
  CHECK_FALSE(psy::decode_attention_applies(torch::randn({1, 3, 1, 64}), k, v, {}));                 // heads not a multiple of KV
  CHECK_FALSE(psy::decode_attention_applies(q, k.to(torch::kFloat64), v, {}));                        // mixed dtypes
  CHECK_FALSE(psy::decode_attention_applies(q, k, v, torch::zeros({1, 1, 1, 9})));                   // a mask of another length
  CHECK_FALSE(psy::decode_attention_applies(torch::randn({2, 4, 64, 64}), torch::randn({2, 2, 64, 64}),
                                            torch::randn({2, 2, 64, 64}), {}));                      // a prefill: 512 query rows
  CHECK_FALSE(psy::decode_attention_applies(q.clone().requires_grad_(), k, v, {}));                   // training
}
