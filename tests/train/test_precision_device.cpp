// fp16 training on CPU is refused before the first step with the recipe keys to change:
// LibTorch 1.13 has no fp16 matrix multiplication on CPU (checked here too, so that a LibTorch
// that gains one makes this test point at the refusal to lift).
#include "tests/io/torch_catch.h"
#include "tests/train/tiny_training.h"

#include "libpsy/core/error.h"
#include "libpsy/train/training_loop.h"

using namespace psy;
using namespace psy::test;

TEST_CASE("LibTorch 1.x has no fp16 matmul on CPU") {
#if TORCH_VERSION_MAJOR < 2
  torch::Tensor a = torch::ones({2, 2}, torch::kHalf);
  CHECK_THROWS(torch::mm(a, a));
#else
  std::cerr << "SKIPPED: LibTorch " TORCH_VERSION " has CPU fp16 kernels; psy still trains fp16 only on CUDA\n";
#endif
}

TEST_CASE("train.precision fp16 on CPU is refused with the alternatives named") {
  Decoder d = tiny_model(1);
  d->to(torch::kCPU);
  add_lora(d);
  TrainingSetup s = base_setup("");
  s.train.precision = WeightDtype::Fp16;
  CHECK_THROWS_WITH(run_training(*d, counting_data(4, 0), s),
                    Catch::Contains("train.precision") && Catch::Contains("CUDA") && Catch::Contains("bf16") &&
                        Catch::Contains("fp32"));
}

TEST_CASE("an fp16 model on CPU is refused even with train.precision fp32") {
  Decoder d = tiny_model(1);
  d->to(torch::kCPU, torch::kHalf);
  add_lora(d);
  TrainingSetup s = base_setup("");
  CHECK_THROWS_WITH(run_training(*d, counting_data(4, 0), s), Catch::Contains("model.dtype"));
}

TEST_CASE("on CUDA, an fp16 base with fp32 LoRA and dynamic loss scaling trains (PSY_TEST_DEVICE=cuda)") {
  if (!test_device().is_cuda()) {
    std::cerr << "SKIPPED: fp16 training runs only on CUDA (set PSY_TEST_DEVICE=cuda on a GPU machine)\n";
    return;
  }
  for (torch::ScalarType dtype : {torch::kHalf, torch::kBFloat16}) {
    INFO(c10::toString(dtype));
    Decoder d = tiny_model(1);
    d->to(dtype);
    add_lora(d);
    for (auto& [name, p] : lora_parameters(*d)) CHECK(p.scalar_type() == torch::kFloat32);
    TrainingSetup s = base_setup("");
    s.train.precision = dtype == torch::kHalf ? WeightDtype::Fp16 : WeightDtype::Bf16;
    s.train.epochs = 8;
    s.train.lr = 2e-2;
    TrainingResult r = run_training(*d, counting_data(12, 0), s);
    INFO("loss " << r.first_loss << " -> " << r.last_loss);
    CHECK(r.last_loss < 0.8 * r.first_loss);
  }
}
