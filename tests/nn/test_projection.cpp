// Projection with LoRA: PEFT init, forward, merge, gradients, dropout.
#include "tests/io/torch_catch.h"

#include <cmath>

#include "libpsy/core/error.h"
#include "libpsy/nn/projection.h"

TEST_CASE("a fresh adapter starts as the identity change, seeded, with PEFT's init range") {
  torch::manual_seed(0);
  psy::Projection p(16, 8, torch::TensorOptions().dtype(torch::kFloat32));
  torch::nn::init::normal_(p->weight);
  torch::Tensor x = torch::randn({2, 3, 16});
  torch::Tensor before = p->forward(x);
  torch::manual_seed(7);
  p->add_lora(4, 8.0);
  CHECK(p->has_lora());
  CHECK(p->lora_scaling == 2.0);
  CHECK(p->lora_A.sizes() == torch::IntArrayRef({4, 16}));
  CHECK(p->lora_B.sizes() == torch::IntArrayRef({8, 4}));
  CHECK(p->lora_A.abs().max().item<double>() <= 1.0 / std::sqrt(16.0));
  CHECK(p->lora_B.abs().sum().item<double>() == 0.0);
  CHECK(torch::allclose(p->forward(x), before));
  torch::Tensor first_A = p->lora_A.clone();
  torch::manual_seed(7);
  p->add_lora(4, 8.0);
  CHECK(torch::equal(p->lora_A, first_A));
  p->add_lora(4, 8.0, 0.0, /*rslora=*/true);
  CHECK(p->lora_scaling == Approx(4.0));
}

TEST_CASE("named parameters follow PEFT naming; only LoRA trains; merge keeps the output") {
  torch::manual_seed(1);
  psy::Projection p(6, 5, torch::TensorOptions().dtype(torch::kFloat32));
  torch::nn::init::normal_(p->weight);
  p->add_lora(2, 4.0);
  {
    torch::NoGradGuard g;
    p->lora_B.normal_();
  }
  std::vector<std::string> names;
  for (const auto& n : p->named_parameters()) names.push_back(n.key());
  CHECK(names == std::vector<std::string>({"weight", "lora_A", "lora_B"}));
  torch::Tensor x = torch::randn({3, 6});
  torch::Tensor y = p->forward(x);
  CHECK(torch::allclose(y, torch::matmul(x, p->weight.t()) + 2.0 * torch::matmul(torch::matmul(x, p->lora_A.t()), p->lora_B.t()), 1e-5, 1e-5));
  y.sum().backward();
  CHECK_FALSE(p->weight.grad().defined());
  CHECK(p->lora_A.grad().defined());
  CHECK(p->lora_B.grad().defined());
  p->merge_lora();
  CHECK_FALSE(p->has_lora());
  CHECK(p->parameters().size() == 1);
  CHECK(torch::allclose(p->forward(x), y.detach(), 1e-5, 1e-5));
}

TEST_CASE("LoRA on a bf16 base computes the adapter in fp32 and returns bf16; dropout only when training") {
  torch::manual_seed(2);
  psy::Projection p(32, 4, torch::TensorOptions().dtype(torch::kBFloat16));
  p->weight.normal_();
  p->add_lora(2, 2.0, /*dropout=*/0.5);
  CHECK(p->lora_A.scalar_type() == torch::kFloat32);
  torch::Tensor x = torch::randn({8, 32}).to(torch::kBFloat16);
  p->eval();
  CHECK(p->forward(x).scalar_type() == torch::kBFloat16);
  {
    torch::NoGradGuard g;
    p->lora_B.fill_(1.0);
  }
  torch::Tensor a = p->forward(x), b = p->forward(x);
  CHECK(torch::equal(a, b));
  p->train();
  CHECK_FALSE(torch::equal(p->forward(x), p->forward(x)));
  CHECK_THROWS_AS(p->set_lora(torch::zeros({2, 31}), torch::zeros({4, 2}), 1.0), psy::Error);
}
