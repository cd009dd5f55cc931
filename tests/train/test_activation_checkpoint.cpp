// Gradient checkpointing gives the same gradients as the plain forward, with dropout too.
#include "tests/io/torch_catch.h"

#include "libpsy/train/activation_checkpoint.h"
#include "tests/io/test_device.h"

using namespace psy;

TEST_CASE("checkpointed blocks give the same loss and gradients as plain ones (dropout on the test device)") {
  torch::manual_seed(11);
  const auto on = torch::TensorOptions().device(psy::test::test_device());
  torch::Tensor w1 = torch::randn({6, 6}, on).set_requires_grad(true);
  torch::Tensor frozen = torch::randn({6, 6}, on);  // no gradient, like a LoRA base weight
  torch::Tensor w2 = torch::randn({6, 6}, on).set_requires_grad(true);
  torch::Tensor x0 = torch::randn({2, 3, 6}, on);  // needs no gradient (frozen embedding)
  auto block = [&](const torch::Tensor& w) {
    return [&, w](const torch::Tensor& h) {
      torch::Tensor d = torch::dropout(torch::matmul(h, w), 0.3, true);
      return h + torch::tanh(torch::matmul(d, frozen));
    };
  };
  auto run = [&](bool ckpt) {
    w1.mutable_grad() = torch::Tensor();
    w2.mutable_grad() = torch::Tensor();
    torch::manual_seed(5);
    torch::Tensor h = x0;
    for (const auto& w : {w1, w2}) h = ckpt ? checkpointed(block(w), h) : block(w)(h);
    torch::Tensor loss = h.pow(2).mean();
    loss.backward();
    return std::make_tuple(loss.item<double>(), w1.grad().clone(), w2.grad().clone());
  };
  auto [l0, g10, g20] = run(false);
  auto [l1, g11, g21] = run(true);
  CHECK(l0 == l1);
  CHECK(torch::allclose(g10, g11, 1e-6, 1e-7));
  CHECK(torch::allclose(g20, g21, 1e-6, 1e-7));
}

TEST_CASE("checkpointed passes gradients to an input that requires them") {
  torch::Tensor x = torch::randn({3, 4}).set_requires_grad(true);
  torch::Tensor y = checkpointed([](const torch::Tensor& h) { return (h * h).sum(1); }, x);
  y.sum().backward();
  CHECK(torch::allclose(x.grad(), 2 * x.detach()));
}
