// few_rows_matmul (libpsy/nn/few_rows_matmul.h): the decode-time kernels that read each weight row
// once, and the prefill's blocked form of them. They must give x W^T (+ bias) for every shape a
// decoder meets: any number of rows up to the limit, inner sizes that are not a multiple of the vector width, output sizes that are not a
// multiple of the tile, fp32 and bf16, with every kernel family the CPU has.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <vector>

#include "libpsy/nn/few_rows_matmul.h"
#include "libpsy/nn/projection.h"
#include "tests/nn/upper_vector_state.h"

namespace {

std::vector<psy::FewRowsIsa> families_here() {
  std::vector<psy::FewRowsIsa> out;
  for (psy::FewRowsIsa isa : {psy::FewRowsIsa::Avx512Bf16, psy::FewRowsIsa::Avx2})
    if (static_cast<int>(isa) >= static_cast<int>(psy::few_rows_matmul_isa())) out.push_back(isa);
  return out;
}

// The exact product of the (already rounded) inputs, in fp64.
torch::Tensor exact(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  torch::Tensor y = torch::matmul(x.to(torch::kFloat64), w.to(torch::kFloat64).t());
  return b.defined() ? y + b.to(torch::kFloat64) : y;
}

// |y - exact| within fp32 accumulation error of sum |x||w|, plus the output's own rounding.
void check_close(const torch::Tensor& y, const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  const torch::Tensor ref = exact(x, w, b);
  torch::Tensor scale = torch::matmul(x.to(torch::kFloat64).abs(), w.to(torch::kFloat64).abs().t());
  if (b.defined()) scale = scale + b.to(torch::kFloat64).abs();
  const double out_eps = y.scalar_type() == torch::kBFloat16 ? 1.0 / 256 : 1.0 / (1 << 23);
  const torch::Tensor err = (y.to(torch::kFloat64) - ref).abs();
  const torch::Tensor bound = scale * 1e-6 + ref.abs() * out_eps + 1e-30;
  INFO("largest error / bound " << (err / bound).max().item<double>());
  CHECK((err <= bound).all().item<bool>());
}

}  // namespace

TEST_CASE("few_rows_matmul equals x W^T + b for every row count (decode and prefill), ragged sizes, fp32 and bf16",
          "[nn][few_rows_matmul]") {
  if (psy::few_rows_matmul_isa() == psy::FewRowsIsa::None) {
    WARN("SKIPPED: this CPU has neither AVX2+FMA nor AVX-512 BF16");
    return;
  }
  torch::manual_seed(7);
  for (psy::FewRowsIsa isa : families_here()) {
    for (torch::ScalarType dtype : {torch::kFloat32, torch::kBFloat16}) {
      for (int64_t k : {1, 7, 16, 31, 33, 64, 200, 576}) {
        for (int64_t n : {1, 3, 4, 9, 130}) {
          for (int64_t m : {1, 2, 3, 5, 8, 12, 16, 17, 23, 64, 128}) {
            if (m > psy::kFewRowsMatmulDecodeRows && isa != psy::FewRowsIsa::Avx512Bf16) continue;  // AVX2 decodes only
            INFO(psy::to_string(isa) << " " << c10::toString(dtype) << " m " << m << " n " << n << " k " << k);
            const auto opts = torch::TensorOptions().dtype(dtype);
            const torch::Tensor x = torch::randn({m, k}).to(opts);
            const torch::Tensor w = torch::randn({n, k}).to(opts);
            const torch::Tensor b = (n % 2) ? torch::randn({n}).to(opts) : torch::Tensor();
            REQUIRE(psy::few_rows_matmul_applies(x, w, b));
            const torch::Tensor y = psy::few_rows_matmul(x, w, b, isa);
            REQUIRE(y.scalar_type() == dtype);
            REQUIRE(y.sizes() == torch::IntArrayRef({m, n}));
            check_close(y, x, w, b);
          }
        }
      }
    }
  }
}

TEST_CASE("a row's product is the same, bit for bit, with 5 or 127 other rows: decode steps and prefills agree",
          "[nn][few_rows_matmul]") {
  // A prompt's prefill (many rows at once) and a decode step of several sequences must give a row
  // the same numbers, or what psy generates would depend on how prompts were batched.
  if (psy::few_rows_matmul_isa() != psy::FewRowsIsa::Avx512Bf16) {
    WARN("SKIPPED: prefills take the kernel only with AVX-512");
    return;
  }
  torch::manual_seed(5);
  for (torch::ScalarType dtype : {torch::kFloat32, torch::kBFloat16}) {
    for (int64_t n : {130, 1536}) {
      const auto opts = torch::TensorOptions().dtype(dtype);
      const torch::Tensor x = torch::randn({psy::kFewRowsMatmulMaxRows, 576}).to(opts);
      const torch::Tensor w = torch::randn({n, 576}).to(opts);
      const torch::Tensor b = torch::randn({n}).to(opts);
      const torch::Tensor all = psy::few_rows_matmul(x, w, b);
      for (int64_t rows : {5, 8, 16, 17, 40}) {
        for (int64_t first = 0; first + rows <= x.size(0); first += 37) {
          INFO(c10::toString(dtype) << " n " << n << " rows [" << first << ", " << first + rows << ")");
          CHECK(torch::equal(psy::few_rows_matmul(x.narrow(0, first, rows), w, b), all.narrow(0, first, rows)));
        }
      }
    }
  }
}

TEST_CASE("fp32 rows against a weight's exact bf16 copy give the fp32 weight's sums bit for bit",
          "[nn][few_rows_matmul]") {
  // Decoding in fp32 reads the bf16 copy of weights that hold only bf16 values (exact_bf16.h).
  if (psy::few_rows_matmul_isa() == psy::FewRowsIsa::None) {
    WARN("SKIPPED: this CPU has neither AVX2+FMA nor AVX-512 BF16");
    return;
  }
  torch::manual_seed(9);
  for (psy::FewRowsIsa isa : families_here()) {
    for (int64_t k : {7, 16, 33, 576}) {
      for (int64_t n : {1, 9, 130}) {
        for (int64_t m : {1, 2, 4, 5, 8, 16}) {
          INFO(psy::to_string(isa) << " m " << m << " n " << n << " k " << k);
          const torch::Tensor narrow = torch::randn({n, k}).to(torch::kBFloat16);
          const torch::Tensor x = torch::randn({m, k}), b = torch::randn({n});
          const torch::Tensor y = psy::few_rows_matmul(x, narrow, b, isa);
          REQUIRE(y.scalar_type() == torch::kFloat32);
          CHECK(torch::equal(y, psy::few_rows_matmul(x, narrow.to(torch::kFloat32), b, isa)));
        }
      }
    }
  }
}

TEST_CASE("few_rows_matmul keeps x's leading shape", "[nn][few_rows_matmul]") {
  if (psy::few_rows_matmul_isa() == psy::FewRowsIsa::None) return;
  const torch::Tensor x = torch::randn({4, 1, 40});
  const torch::Tensor w = torch::randn({24, 40});
  const torch::Tensor y = psy::few_rows_matmul(x, w, {});
  REQUIRE(y.sizes() == torch::IntArrayRef({4, 1, 24}));
  check_close(y.reshape({4, 24}), x.reshape({4, 40}), w, {});
}

TEST_CASE("few_rows_matmul stays out of what it cannot do", "[nn][few_rows_matmul]") {
  if (psy::few_rows_matmul_isa() == psy::FewRowsIsa::None) return;
  const torch::Tensor w = torch::randn({8, 32});
  CHECK_FALSE(psy::few_rows_matmul_applies(torch::randn({psy::kFewRowsMatmulMaxRows + 1, 32}), w, {}));
  const bool prefills = psy::few_rows_matmul_isa() == psy::FewRowsIsa::Avx512Bf16;
  CHECK(psy::few_rows_matmul_applies(torch::randn({psy::kFewRowsMatmulMaxRows, 32}), w, {}) == prefills);
  CHECK(psy::few_rows_matmul_applies(torch::randn({psy::kFewRowsMatmulDecodeRows, 32}), w, {}));
  CHECK_FALSE(psy::few_rows_matmul_applies(torch::randn({2, 32}).to(torch::kFloat64), w.to(torch::kFloat64), {}));
  CHECK_FALSE(psy::few_rows_matmul_applies(torch::randn({2, 32}).to(torch::kBFloat16), w, {}));  // mixed dtypes
  CHECK_FALSE(psy::few_rows_matmul_applies(torch::randn({2, 32}, torch::requires_grad()), w, {}));
  CHECK_FALSE(psy::few_rows_matmul_applies(torch::randn({2, 31}), w, {}));
  CHECK_FALSE(psy::few_rows_matmul_applies(torch::randn({2, 32}), w, torch::randn({7})));
  {
    torch::NoGradGuard no_grad;  // without autograd a tensor that requires grad is fine
    CHECK(psy::few_rows_matmul_applies(torch::randn({2, 32}, torch::requires_grad()), w, {}));
  }
}

TEST_CASE("few_rows_matmul returns with the upper vector state clean", "[nn][few_rows_matmul]") {
  // Dirty upper halves slow every SSE instruction after the kernel on Intel cores; one row, fp32 and
  // no bias leaves no LibTorch operation between the kernel (part 0 runs on this thread) and the
  // check to clean them.
  if (psy::few_rows_matmul_isa() == psy::FewRowsIsa::None || !psy::test::upper_vector_state_dirty()) {
    WARN("SKIPPED: no vector kernel, or this CPU does not report which vector state is in use");
    return;
  }
  for (psy::FewRowsIsa isa : families_here()) {
    INFO(psy::to_string(isa));
    const torch::Tensor x = torch::randn({1, 64}), w = torch::randn({8, 64});
    const torch::Tensor y = psy::few_rows_matmul(x, w, {}, isa);
    CHECK_FALSE(*psy::test::upper_vector_state_dirty());
  }
}

TEST_CASE("a Projection decoding a few rows gives what it gives for many", "[nn][few_rows_matmul]") {
  // The decode step (few rows, the kernel) and the prefill (many rows, a matrix product) of one
  // model must agree, or a cached generation would drift from an uncached one.
  torch::manual_seed(11);
  for (torch::ScalarType dtype : {torch::kFloat32, torch::kBFloat16}) {
    psy::Projection p(96, 50, torch::TensorOptions().dtype(dtype), /*bias=*/true);
    {
      torch::NoGradGuard no_grad;
      p->weight.normal_();
      p->bias.normal_();
    }
    torch::NoGradGuard no_grad;
    // 40 rows take the kernel's prefill form, 200 a general matrix product.
    for (int64_t rows : {int64_t{40}, psy::kFewRowsMatmulMaxRows + 72}) {
      const torch::Tensor many = torch::randn({rows, 96}).to(dtype);
      const torch::Tensor all = p->forward(many);
      const torch::Tensor first_rows = p->forward(many.narrow(0, 0, 3));
      const double tol = dtype == torch::kBFloat16 ? 0.05 : 1e-4;
      CHECK(torch::allclose(first_rows.to(torch::kFloat32), all.narrow(0, 0, 3).to(torch::kFloat32), tol, tol));
    }
  }
}
