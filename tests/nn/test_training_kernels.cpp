// The training kernels that keep less for backward (issue 20): memory-efficient attention,
// SwiGLU and RMSNorm as custom autograd Functions. Each one's output and gradients equal the
// plain LibTorch composition's in fp32 within 1e-5 relative: grouped-query heads, causal
// masking, several segments of different lengths with gaps, a sliding window, a padding mask.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "libpsy/core/error.h"
#include "libpsy/nn/attention.h"
#include "libpsy/nn/memory_efficient_attention.h"
#include "libpsy/nn/rms_norm.h"
#include "libpsy/nn/swiglu.h"
#include "tests/nn/tensor_close.h"

using psy::AttentionSegment;
using psy::test::check_close;

namespace {

// The plain composition for one block: softmax(q k^T / sqrt(d) + mask) v with k, v repeated per
// query head; causal (and within `window` keys when > 0) unless an additive mask [L, L] is given.
torch::Tensor reference_block(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, int64_t window,
                              const torch::Tensor& mask) {
  const int64_t g = q.size(0) / k.size(0), len = q.size(1);
  torch::Tensor kk = k.repeat_interleave(g, 0), vv = v.repeat_interleave(g, 0);
  torch::Tensor scores = torch::matmul(q, kk.transpose(-1, -2)) / std::sqrt(static_cast<double>(q.size(-1)));
  if (mask.defined()) {
    scores = scores + mask;
  } else {
    torch::Tensor i = torch::arange(len).view({len, 1}), j = torch::arange(len).view({1, len});
    torch::Tensor hidden = j > i;
    if (window > 0) hidden = hidden | ((i - j) >= window);
    scores = scores.masked_fill(hidden, -std::numeric_limits<float>::infinity());
  }
  return torch::matmul(torch::softmax(scores, -1), vv);
}

// [B, T, H, D] output of the reference over blocks (zeros elsewhere).
torch::Tensor reference_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  const std::vector<AttentionSegment>& blocks, int64_t window,
                                  const torch::Tensor& mask) {
  std::vector<torch::Tensor> rows;
  for (int64_t r = 0; r < q.size(0); ++r) {
    std::vector<torch::Tensor> pieces;
    int64_t filled = 0;
    for (const auto& b : blocks) {
      if (b.row != r) continue;
      if (b.start > filled) pieces.push_back(torch::zeros({q.size(1), b.start - filled, q.size(3)}));
      auto part = [&](const torch::Tensor& x) { return x[r].narrow(1, b.start, b.length); };
      torch::Tensor m;
      if (mask.defined()) m = mask[r][0].narrow(0, b.start, b.length).narrow(1, b.start, b.length);
      pieces.push_back(reference_block(part(q), part(k), part(v), window, m));
      filled = b.start + b.length;
    }
    if (filled < q.size(2)) pieces.push_back(torch::zeros({q.size(1), q.size(2) - filled, q.size(3)}));
    rows.push_back(torch::cat(pieces, 1));
  }
  return torch::stack(rows).transpose(1, 2);
}

struct Grads {
  torch::Tensor out, dq, dk, dv;
};

// Runs `attend` on fresh leaves q [B, H, T, D], k/v [B, KV, T, D] (laid out as the projections
// make them: [B, T, heads, D] memory) and back-propagates a fixed random upstream gradient.
template <typename Attend>
Grads run(const torch::Tensor& q0, const torch::Tensor& k0, const torch::Tensor& v0, const torch::Tensor& upstream,
          Attend attend) {
  torch::Tensor q = q0.clone().requires_grad_(true), k = k0.clone().requires_grad_(true),
                v = v0.clone().requires_grad_(true);
  torch::Tensor out = attend(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2));
  (out * upstream).sum().backward();
  return {out.detach(), q.grad().transpose(1, 2), k.grad().transpose(1, 2), v.grad().transpose(1, 2)};
}

void check_attention(int64_t batch, int64_t heads, int64_t kv_heads, int64_t tokens,
                     const std::vector<AttentionSegment>& blocks, int64_t window, const torch::Tensor& mask = {}) {
  torch::manual_seed(5);
  const int64_t d = 8;
  torch::Tensor q = torch::randn({batch, tokens, heads, d}) * 2, k = torch::randn({batch, tokens, kv_heads, d}) * 2,
                v = torch::randn({batch, tokens, kv_heads, d});
  torch::Tensor upstream = torch::randn({batch, tokens, heads, d});
  Grads mine = run(q, k, v, upstream, [&](const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& c) {
    return psy::memory_efficient_attention(a, b, c, blocks, window, mask);
  });
  Grads ref = run(q, k, v, upstream, [&](const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& c) {
    return reference_attention(a, b, c, blocks, window, mask);
  });
  check_close(mine.out, ref.out, "output");
  check_close(mine.dq, ref.dq, "dq");
  check_close(mine.dk, ref.dk, "dk");
  check_close(mine.dv, ref.dv, "dv");
}

}  // namespace

TEST_CASE("memory-efficient attention equals the plain composition: GQA, segments with gaps") {
  // Row 0: two samples filling it; row 1: samples of 3 and 7 tokens with padding between and after.
  check_attention(2, 6, 2, 13, {{0, 0, 5}, {0, 5, 8}, {1, 0, 3}, {1, 4, 7}}, 0);
  // Plain multi-head (KV = H) and one-token segments.
  check_attention(1, 4, 4, 9, {{0, 0, 1}, {0, 1, 7}, {0, 8, 1}}, 0);
}

TEST_CASE("memory-efficient attention applies a sliding window inside each segment") {
  check_attention(1, 4, 2, 17, {{0, 0, 10}, {0, 10, 3}, {0, 13, 4}}, 3);
}

TEST_CASE("memory-efficient attention with an additive padding mask equals the composition") {
  const int64_t t = 7;
  torch::Tensor allowed = torch::ones({t, t}, torch::kBool).tril().view({1, 1, t, t}).repeat({2, 1, 1, 1});
  allowed[1].narrow(2, 5, 2).fill_(false);  // row 1 right-padded after 5 tokens
  torch::Tensor mask = torch::where(allowed, torch::zeros({}), torch::full({}, std::numeric_limits<float>::lowest()));
  check_attention(2, 6, 3, t, {{0, 0, t}, {1, 0, t}}, 0, mask);
}

TEST_CASE("attend() takes the memory-efficient kernel for CPU training with the same output as inference") {
  torch::manual_seed(6);
  psy::AttentionContext ctx;
  ctx.kernel = psy::AttentionKernel::Plain;
  ctx.segments = {{0, 0, 6}, {0, 6, 9}};
  torch::Tensor q = torch::randn({1, 15, 6, 8}).transpose(1, 2), k = torch::randn({1, 15, 2, 8}).transpose(1, 2),
                v = torch::randn({1, 15, 2, 8}).transpose(1, 2);
  torch::Tensor plain;
  {
    torch::NoGradGuard no_grad;
    plain = psy::attend(q, k, v, ctx);
  }
  torch::Tensor qq = q.detach().requires_grad_(true);
  torch::Tensor trained = psy::attend(qq, k, v, ctx);
  REQUIRE(trained.grad_fn());  // the transpose of the Function's [B, T, H, D] output
  REQUIRE(!trained.grad_fn()->next_edges().empty());
  CHECK(trained.grad_fn()->next_edges()[0].function->name().find("MemoryEfficientAttention") != std::string::npos);
  check_close(trained.detach(), plain, "output");
}

TEST_CASE("memory-efficient attention refuses overlapping blocks and a mask of the wrong shape") {
  torch::Tensor q = torch::randn({1, 2, 6, 4}), k = torch::randn({1, 1, 6, 4});
  CHECK_THROWS_AS(psy::memory_efficient_attention(q, k, k, {{0, 0, 4}, {0, 3, 3}}), psy::Error);
  CHECK_THROWS_AS(psy::memory_efficient_attention(q, k, k, {{0, 0, 7}}), psy::Error);
  CHECK_THROWS_AS(psy::memory_efficient_attention(q, k, k, {{0, 0, 6}}, 0, torch::zeros({1, 1, 5, 5})), psy::Error);
}

TEST_CASE("SwiGLU's Function equals silu(gate) * up, output and gradients") {
  torch::manual_seed(7);
  torch::Tensor g0 = torch::randn({3, 5, 24}) * 3, u0 = torch::randn({3, 5, 24}), upstream = torch::randn({3, 5, 24});
  auto run_swiglu = [&](bool fused) {
    torch::Tensor g = g0.clone().requires_grad_(true), u = u0.clone().requires_grad_(true);
    torch::Tensor y = fused ? psy::swiglu(g, u) : torch::silu(g) * u;
    (y * upstream).sum().backward();
    return std::vector<torch::Tensor>{y.detach(), g.grad(), u.grad()};
  };
  auto mine = run_swiglu(true), ref = run_swiglu(false);
  check_close(mine[0], ref[0], "output");
  check_close(mine[1], ref[1], "d gate");
  check_close(mine[2], ref[2], "d up");
  // GLM's halves of one fused projection: views, not copies.
  torch::Tensor both = torch::cat({g0, u0}, -1).requires_grad_(true);
  auto halves = both.chunk(2, -1);
  (psy::swiglu(halves[0], halves[1]) * upstream).sum().backward();
  check_close(both.grad().narrow(-1, 0, 24), ref[1], "d gate (halves)");
  check_close(both.grad().narrow(-1, 24, 24), ref[2], "d up (halves)");
  CHECK_THROWS_AS(psy::swiglu(g0, u0.narrow(-1, 0, 3)), psy::Error);
}

TEST_CASE("RMSNorm's Function equals the composition, gradients of x and weight, per-head shapes") {
  torch::manual_seed(8);
  for (auto sizes : {std::vector<int64_t>{2, 7, 16}, std::vector<int64_t>{2, 3, 4, 16}}) {
    psy::RMSNorm norm(16, 1e-5, torch::TensorOptions());
    {
      torch::NoGradGuard g;
      norm->weight.copy_(torch::randn({16}));
    }
    norm->weight.requires_grad_(true);
    torch::Tensor x0 = torch::randn(sizes) * 4, upstream = torch::randn(sizes);
    torch::Tensor x = x0.clone().requires_grad_(true);
    torch::Tensor y = norm->forward(x);
    (y * upstream).sum().backward();
    torch::Tensor dw = norm->weight.grad().clone();
    torch::Tensor xr = x0.clone().requires_grad_(true), wr = norm->weight.detach().clone().requires_grad_(true);
    torch::Tensor yr = xr * torch::rsqrt(xr.pow(2).mean(-1, true) + 1e-5) * wr;
    (yr * upstream).sum().backward();
    check_close(y.detach(), yr.detach(), "output");
    check_close(x.grad(), xr.grad(), "dx");
    check_close(dw, wr.grad(), "d weight");
  }
}
