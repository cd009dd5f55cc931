// The decode-step RMSNorm and RoPE kernels against the LibTorch compositions they replace, and the
// modules taking them only where they apply.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "libpsy/nn/attention.h"
#include "libpsy/nn/decode_elementwise.h"
#include "libpsy/nn/rms_norm.h"

namespace {

torch::Tensor reference_rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  torch::Tensor h = x.to(torch::kFloat32);
  torch::Tensor rstd = torch::rsqrt(h.pow(2).mean(-1, true) + eps);
  return (h * rstd * w.to(torch::kFloat32)).to(x.scalar_type());
}

torch::Tensor reference_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  torch::Tensor h = x.to(torch::kFloat32);
  const int64_t half = h.size(-1) / 2;
  torch::Tensor rotated = torch::cat({-h.narrow(-1, half, half), h.narrow(-1, 0, half)}, -1);
  return (h * cos + rotated * sin).to(x.scalar_type());
}

// cos/sin [B, 1, T, D] for positions p0.. of each row, as set_rope_tables lays them out.
std::pair<torch::Tensor, torch::Tensor> tables(int64_t b, int64_t t, int64_t d) {
  torch::Tensor pos = torch::arange(b * t, torch::kFloat32).view({b, t}) * 3 + 5;
  torch::Tensor inv = torch::pow(10000.0, -torch::arange(0, d, 2, torch::kFloat32) / d);
  torch::Tensor angles = pos.unsqueeze(-1) * inv;
  torch::Tensor emb = torch::cat({angles, angles}, -1).unsqueeze(1);
  return {emb.cos(), emb.sin()};
}

}  // namespace

TEST_CASE("rms_norm_rows equals the fp32 composition (to fp32 rounding) and its bf16 rounding") {
  torch::manual_seed(3);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    for (int64_t n : {1, 7, 64, 576}) {
      torch::Tensor x = (torch::randn({3, 2, n}) * 4).to(dtype);
      torch::Tensor w = (torch::rand({n}) + 0.5).to(dtype);
      torch::Tensor got = psy::rms_norm_rows(x, w, 1e-5);
      torch::Tensor want = reference_rms_norm(x, w, 1e-5);
      REQUIRE(got.scalar_type() == dtype);
      REQUIRE(got.sizes() == x.sizes());
      // Only the sum of squares is added in another order: fp32 agrees to a few ulps; bf16 rounds
      // the same way except where the fp32 value sits on a rounding boundary.
      if (dtype == torch::kFloat32) {
        CHECK(torch::allclose(got, want, 1e-6, 1e-7));
      } else {
        const double differing = (got != want).sum().item<double>() / static_cast<double>(got.numel());
        CHECK(differing <= 0.02);
        CHECK(torch::allclose(got.to(torch::kFloat32), want.to(torch::kFloat32), 1e-2, 1e-3));
      }
    }
  }
}

TEST_CASE("rms_norm_rows: an fp32 weight with bf16 activations is used in fp32") {
  torch::Tensor x = torch::randn({2, 16}).to(torch::kBFloat16);
  torch::Tensor w = torch::rand({16}) + 0.5;
  CHECK(torch::equal(psy::rms_norm_rows(x, w, 1e-6).to(torch::kFloat32),
                     reference_rms_norm(x, w, 1e-6).to(torch::kFloat32)));
}

TEST_CASE("rope_rows equals the rotate-half composition bit for bit, fp32 and bf16, several rows and heads") {
  torch::manual_seed(4);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    const int64_t b = 3, h = 5, t = 2, d = 64;
    auto [cos, sin] = tables(b, t, d);
    // A transposed view, as attention passes it ([B, T, H, D] storage seen as [B, H, T, D]).
    torch::Tensor x = torch::randn({b, t, h, d}).to(dtype).transpose(1, 2);
    torch::Tensor got = psy::rope_rows(x, cos, sin);
    REQUIRE(got.defined());
    CHECK(torch::equal(got, reference_rope(x, cos, sin)));
    CHECK(torch::equal(psy::apply_rope(x, cos, sin), got));
  }
}

TEST_CASE("rope_rows declines what it does not cover, and apply_rope still rotates it") {
  auto [cos, sin] = tables(1, 1, 32);
  torch::Tensor x = torch::randn({1, 2, 1, 64});  // partial rotation: 32 of 64 dims
  CHECK_FALSE(psy::rope_rows(x, cos, sin).defined());
  torch::Tensor y = psy::apply_rope(x, cos, sin);
  CHECK(torch::equal(y.narrow(-1, 32, 32), x.narrow(-1, 32, 32)));
  CHECK(torch::equal(y.narrow(-1, 0, 32), reference_rope(x.narrow(-1, 0, 32), cos, sin)));
}

TEST_CASE("decode kernels apply to small CPU inputs without a gradient only") {
  CHECK(psy::decode_elementwise_applies(torch::randn({4, 576})));
  CHECK(psy::decode_elementwise_applies(torch::randn({1, 9, 1, 64}).to(torch::kBFloat16)));
  CHECK_FALSE(psy::decode_elementwise_applies(torch::randn({psy::kDecodeElementwiseMaxRows + 1, 8})));
  CHECK_FALSE(psy::decode_elementwise_applies(torch::randn({4, 8}, torch::kFloat64)));
  CHECK_FALSE(psy::decode_elementwise_applies(torch::randn({4, 8}).requires_grad_()));
  {
    torch::NoGradGuard no_grad;
    CHECK(psy::decode_elementwise_applies(torch::randn({4, 8}).requires_grad_()));
  }
  // The module keeps its autograd path: a norm of a tensor that needs a gradient still backpropagates.
  psy::RMSNorm norm(8, 1e-6, torch::TensorOptions());
  torch::Tensor x = torch::randn({2, 8}).requires_grad_();
  norm->forward(x).sum().backward();
  CHECK(x.grad().defined());
}
