// exact_bf16.h: fp32 weights that hold only bf16 values, and the bf16 copy decoding reads instead.
// The copy must never change a result: it exists only where it is exact, and a weight changed since
// (loaded, merged, trained) is looked at again rather than read stale.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "libpsy/nn/exact_bf16.h"
#include "libpsy/nn/few_rows_matmul.h"
#include "libpsy/nn/projection.h"

namespace {

torch::Tensor bf16_valued(std::vector<int64_t> sizes) { return torch::randn(sizes).to(torch::kBFloat16).to(torch::kFloat32); }

}  // namespace

TEST_CASE("holds_only_bf16_values tells bf16-valued fp32 tensors from the rest", "[nn][exact_bf16]") {
  torch::manual_seed(3);
  const torch::Tensor exact = bf16_valued({64, 40});
  CHECK(psy::holds_only_bf16_values(exact));
  CHECK(psy::holds_only_bf16_values(torch::tensor({0.0f, -0.0f, 1.0f, INFINITY, -INFINITY})));
  torch::Tensor one_off = exact.clone();
  one_off.view(-1)[1234] = one_off.view(-1)[1234].item<float>() * (1.0f + 1.0f / 1024);  // below bf16's step
  CHECK_FALSE(psy::holds_only_bf16_values(one_off));
  CHECK_FALSE(psy::holds_only_bf16_values(exact.to(torch::kBFloat16)));  // only fp32 tensors qualify
  CHECK(psy::holds_only_bf16_values(exact.t()));                          // any layout
}

TEST_CASE("ExactBf16Copy holds the weight's values, and follows every change to it", "[nn][exact_bf16]") {
  torch::manual_seed(4);
  psy::ExactBf16Copy copy;
  torch::Tensor w = bf16_valued({24, 32});
  const torch::Tensor* c = copy.of(w);
  REQUIRE(c != nullptr);
  CHECK(c->scalar_type() == torch::kBFloat16);
  CHECK(torch::equal(c->to(torch::kFloat32), w));

  torch::NoGradGuard no_grad;
  w.copy_(torch::randn({24, 32}));  // in place, values bf16 cannot hold
  CHECK(copy.of(w) == nullptr);
  const torch::Tensor next = bf16_valued({24, 32});
  w.copy_(next);  // in place again, exact again
  c = copy.of(w);
  REQUIRE(c != nullptr);
  CHECK(torch::equal(c->to(torch::kFloat32), next));
  w.set_data(bf16_valued({24, 32}));  // new storage
  c = copy.of(w);
  REQUIRE(c != nullptr);
  CHECK(torch::equal(c->to(torch::kFloat32), w));

  CHECK(copy.of(w.to(torch::kBFloat16)) == nullptr);  // a bf16 weight needs no copy
  CHECK(copy.of(bf16_valued({32, 24}).t()) == nullptr);  // not contiguous
}

TEST_CASE("a Projection decoding with its bf16 copy gives the fp32 weight's result bit for bit, and never a stale one",
          "[nn][exact_bf16]") {
  if (psy::few_rows_matmul_isa() == psy::FewRowsIsa::None) {
    WARN("SKIPPED: this CPU has neither AVX2+FMA nor AVX-512 BF16");
    return;
  }
  torch::manual_seed(6);
  psy::Projection p(200, 130, torch::TensorOptions().dtype(torch::kFloat32), /*bias=*/true);
  torch::NoGradGuard no_grad;
  p->weight.copy_(bf16_valued({130, 200}));
  p->bias.copy_(torch::randn({130}));
  for (int64_t rows : {1, 3, 8, 16}) {
    INFO(rows << " rows");
    const torch::Tensor x = torch::randn({rows, 200});
    const torch::Tensor y = p->forward(x);
    REQUIRE(p->exact_bf16_weight() != nullptr);
    CHECK(torch::equal(y, psy::few_rows_matmul(x, p->weight, p->bias)));  // the fp32 weight itself
  }
  // Changed in place to values bf16 cannot hold: the next step must use them.
  p->weight.add_(torch::randn({130, 200}) * 1e-3);
  const torch::Tensor x = torch::randn({4, 200});
  CHECK(p->exact_bf16_weight() == nullptr);
  CHECK(torch::equal(p->forward(x), psy::few_rows_matmul(x, p->weight, p->bias)));
}
