// The LoRA branch's dropout (issue 20): a hashed mask that is never stored. The kernel equals its
// scalar definition on every span and offset; it keeps 1 - p of the elements; the autograd
// Function's output and gradients equal the composition torch would run (dropout, two linears)
// with the same mask; eval mode and p = 0 drop nothing; LibTorch's seed makes it reproducible.
#include <cmath>
#include <cstdint>
#include <vector>

#include "libpsy/core/error.h"
#include "libpsy/nn/hashed_dropout.h"
#include "libpsy/nn/lora_branch.h"
#include "libpsy/nn/projection.h"
#include "tests/nn/tensor_close.h"

using psy::test::check_close;

namespace {

// keeps(i) * scale for the first n indices, from the scalar definition.
torch::Tensor mask_of(const psy::HashedDropout& d, int64_t n) {
  torch::Tensor m = torch::empty({n});
  float* p = m.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) p[i] = psy::hashed_dropout_keeps(d, static_cast<uint64_t>(i)) ? d.scale : 0.0f;
  return m;
}

}  // namespace

TEST_CASE("hashed dropout: the kernel equals the scalar definition at any offset, also past 2^32") {
  const psy::HashedDropout d = psy::make_hashed_dropout(0x1234567890abcdefULL, 0.3);
  std::vector<float> x(1000), out(1000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 1.0f + static_cast<float>(i);
  for (uint64_t first : {uint64_t{0}, uint64_t{17}, (uint64_t{1} << 32) - 500, uint64_t{5} << 32}) {
    psy::apply_hashed_dropout(d, x.data(), out.data(), static_cast<int64_t>(x.size()), first);
    int64_t mismatches = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const float want = psy::hashed_dropout_keeps(d, first + i) ? x[i] * d.scale : 0.0f;
      if (out[i] != want) ++mismatches;
    }
    INFO("first index " << first);
    CHECK(mismatches == 0);
  }
  // In place, as the backward pass applies it to the input's gradient.
  std::vector<float> y = x;
  psy::apply_hashed_dropout(d, y.data(), y.data(), static_cast<int64_t>(y.size()), 17);
  psy::apply_hashed_dropout(d, x.data(), out.data(), static_cast<int64_t>(x.size()), 17);
  CHECK(y == out);
  CHECK_THROWS_AS(psy::make_hashed_dropout(1, 1.0), psy::Error);
  CHECK_THROWS_AS(psy::make_hashed_dropout(1, -0.1), psy::Error);
}

TEST_CASE("hashed dropout keeps 1 - p of the elements, unrelated between seeds and between neighbours") {
  const int64_t n = 1 << 20;
  for (double p : {0.05, 0.5}) {
    const psy::HashedDropout a = psy::make_hashed_dropout(41, p), b = psy::make_hashed_dropout(42, p);
    int64_t kept_a = 0, both = 0, neighbours = 0;
    for (int64_t i = 0; i < n; ++i) {
      const bool ka = psy::hashed_dropout_keeps(a, i), kb = psy::hashed_dropout_keeps(b, i);
      kept_a += ka;
      both += ka && kb;
      neighbours += ka && psy::hashed_dropout_keeps(a, i + 1);
    }
    // Binomial(n, 1 - p): within 5 standard deviations. Independent masks: P(both) = (1 - p)^2.
    const double q = 1.0 - p, sd = std::sqrt(n * p * q);
    INFO("p = " << p);
    CHECK(std::abs(kept_a - n * q) < 5 * sd);
    CHECK(std::abs(both - n * q * q) < 5 * std::sqrt(n * q * q * (1 - q * q)));
    CHECK(std::abs(neighbours - n * q * q) < 5 * std::sqrt(n * q * q * (1 - q * q)));
    CHECK(a.scale == static_cast<float>(1.0 / q));
  }
}

TEST_CASE("the LoRA branch with dropout equals dropout -> linear -> linear with the same mask, gradients too") {
  torch::manual_seed(11);
  const torch::Tensor x0 = torch::randn({2, 5, 24}), A0 = torch::randn({4, 24}) * 0.2, B0 = torch::randn({12, 4}) * 0.2;
  const torch::Tensor upstream = torch::randn({2, 5, 12});
  for (bool x_needs_grad : {true, false}) {
    torch::manual_seed(99);
    const psy::HashedDropout d = psy::make_hashed_dropout(psy::draw_dropout_seed(), 0.25);
    torch::manual_seed(99);  // the branch draws the same seed
    torch::Tensor x = x0.clone().requires_grad_(x_needs_grad), A = A0.clone().requires_grad_(true),
                  B = B0.clone().requires_grad_(true);
    torch::Tensor y = psy::lora_branch(x, A, B, 0.25, /*training=*/true);
    (y * upstream).sum().backward();

    torch::Tensor xr = x0.clone().requires_grad_(true), Ar = A0.clone().requires_grad_(true),
                  Br = B0.clone().requires_grad_(true);
    torch::Tensor h = xr * mask_of(d, x0.numel()).view(x0.sizes());
    torch::Tensor yr = torch::matmul(torch::matmul(h, Ar.t()), Br.t());
    (yr * upstream).sum().backward();
    INFO("x requires grad: " << x_needs_grad);
    check_close(y.detach(), yr.detach(), "output");
    check_close(A.grad(), Ar.grad(), "d lora_A");
    check_close(B.grad(), Br.grad(), "d lora_B");
    if (x_needs_grad)
      check_close(x.grad(), xr.grad(), "d x");
    else
      CHECK_FALSE(x.grad().defined());
  }
}

TEST_CASE("the LoRA branch drops nothing in eval mode or at p = 0, and LibTorch's seed reproduces its masks") {
  torch::manual_seed(3);
  const torch::Tensor x = torch::randn({6, 16}), A = torch::randn({2, 16}), B = torch::randn({8, 2});
  const torch::Tensor plain = torch::matmul(torch::matmul(x, A.t()), B.t());
  check_close(psy::lora_branch(x, A, B, 0.5, /*training=*/false), plain, "eval mode");
  check_close(psy::lora_branch(x, A, B, 0.0, /*training=*/true), plain, "p = 0");
  torch::manual_seed(5);
  torch::Tensor first = psy::lora_branch(x, A, B, 0.5, true), second = psy::lora_branch(x, A, B, 0.5, true);
  CHECK_FALSE(torch::equal(first, second));
  torch::manual_seed(5);
  CHECK(torch::equal(psy::lora_branch(x, A, B, 0.5, true), first));
}

TEST_CASE("a bf16 projection trains its fp32 adapter through the dropout branch; x's gradient stays bf16") {
  torch::manual_seed(4);
  psy::Projection p(32, 8, torch::TensorOptions().dtype(torch::kBFloat16));
  p->weight.normal_();
  p->add_lora(4, 8.0, /*dropout=*/0.1);
  {
    torch::NoGradGuard g;
    p->lora_B.normal_();
  }
  p->train();
  torch::Tensor x = torch::randn({3, 32}).to(torch::kBFloat16).requires_grad_(true);
  torch::Tensor y = p->forward(x);
  CHECK(y.scalar_type() == torch::kBFloat16);
  y.to(torch::kFloat32).sum().backward();
  CHECK(x.grad().scalar_type() == torch::kBFloat16);
  CHECK(p->lora_A.grad().defined());
  CHECK(p->lora_B.grad().defined());
  CHECK(torch::isfinite(p->lora_A.grad()).all().item<bool>());
  CHECK(p->lora_A.grad().abs().sum().item<double>() > 0);
}
