#include "tests/dist/loop_training.h"

#include "libpsy/core/rng.h"
#include "libpsy/dist/gradient_buckets.h"
#include "libpsy/dist/training_hooks.h"
#include "libpsy/nn/decoder.h"
#include "libpsy/nn/lora.h"
#include "libpsy/train/training_loop.h"
#include "tests/tiny_decoder.h"

namespace psy::test {

std::vector<torch::Tensor> train_with_loop(const dist::ProcessGroup& group, int grad_accum) {
  TinyDecoderShape shape;
  shape.vocab_size = 96;
  shape.intermediate_size = 64;
  Decoder d = tiny_random_decoder(shape.config(), 3);
  LoraSpec spec;
  spec.r = 4;
  spec.targets = {"q_proj", "v_proj", "down_proj"};
  inject_lora(*d, spec, 5);
  std::vector<torch::Tensor> adapter;
  for (auto& named : lora_parameters(*d)) adapter.push_back(named.second);
  dist::broadcast_parameters(group, adapter);

  TrainingData data;
  Rng rng(77);
  for (int i = 0; i < 24; ++i) {
    TrainSequence s;
    const int len = 4 + static_cast<int>(rng.uniform_below(20));
    for (int t = 0; t < len; ++t) {
      s.ids.push_back(3 + static_cast<int64_t>(rng.uniform_below(90)));
      s.weights.push_back(t == 0 ? 0.0f : (t < len / 2 ? 0.1f : 1.0f));
    }
    data.train.push_back(std::move(s));
  }
  TrainingSetup setup;
  setup.train.micro_batch = 2;
  setup.train.grad_accum = grad_accum;
  setup.train.max_steps = 3;
  setup.train.lr = 5e-3;
  setup.train.schedule = ScheduleKind::Constant;
  setup.train.max_grad_norm = 1.0;
  setup.train.group_by_length = false;
  setup.seed = 9;
  setup.quiet = true;
  dist::attach_process_group(group, setup);
  TrainingResult r = run_training(*d, data, setup);
  std::vector<torch::Tensor> out;
  for (auto& t : adapter) out.push_back(t.detach().clone());
  out.push_back(torch::tensor(r.losses, torch::kFloat64));
  return out;
}

}  // namespace psy::test
