// fp16 training on CPU is refused before the first step with the recipe keys to change:
// LibTorch 1.13 has no fp16 matrix multiplication on CPU (checked here too, so that a LibTorch
// that gains one makes this test point at the refusal to lift).
#include "tests/io/torch_catch.h"
#include "tests/train/tiny_training.h"

#include "libpsy/core/error.h"
#include "libpsy/train/training_loop.h"

using namespace psy;
using namespace psy::test;

TEST_CASE("LibTorch has no fp16 matmul on CPU") {
  torch::Tensor a = torch::ones({2, 2}, torch::kHalf);
  CHECK_THROWS(torch::mm(a, a));
}

TEST_CASE("train.precision fp16 on CPU is refused with the alternatives named") {
  Decoder d = tiny_model(1);
  add_lora(d);
  TrainingSetup s = base_setup("");
  s.train.precision = "fp16";
  CHECK_THROWS_WITH(run_training(*d, counting_data(4, 0), s),
                    Catch::Contains("train.precision") && Catch::Contains("CUDA") && Catch::Contains("bf16") &&
                        Catch::Contains("fp32"));
}

TEST_CASE("an fp16 model on CPU is refused even with train.precision fp32") {
  Decoder d = tiny_model(1);
  d->to(torch::kHalf);
  add_lora(d);
  TrainingSetup s = base_setup("");
  CHECK_THROWS_WITH(run_training(*d, counting_data(4, 0), s), Catch::Contains("model.dtype"));
}
