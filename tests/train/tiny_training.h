// Shared by the trainer tests: a tiny random Llama-shaped model, learnable counting sequences,
// a small LoRA setup and the recipe-like defaults the tests start from.
#pragma once
#include <string>

#include "libpsy/io/hf_config.h"
#include "libpsy/nn/decoder.h"
#include "libpsy/nn/lora.h"
#include "libpsy/train/training_loop.h"
#include "tests/io/test_device.h"

namespace psy::test {

inline Decoder tiny_model(uint64_t seed) {
  DecoderConfig c = parse_decoder_config(
      R"({"model_type":"llama","architectures":["LlamaForCausalLM"],"vocab_size":48,"hidden_size":32,
          "intermediate_size":64,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
          "rms_norm_eps":1e-5,"max_position_embeddings":128,"tie_word_embeddings":false,"torch_dtype":"float32",
          "bos_token_id":1,"eos_token_id":2})",
      "tiny");
  torch::manual_seed(seed);
  Decoder d(c, DecoderOptions{});
  d->init_random_weights();
  d->to(test_device());  // PSY_TEST_DEVICE: the same tests run on a GPU
  return d;
}

// Learnable sequences: BOS, a start token, then counting upwards mod 40, EOS. Prompt weight 0.1.
inline TrainingData counting_data(int n_train, int n_eval) {
  TrainingData data;
  for (int i = 0; i < n_train + n_eval; ++i) {
    TrainSequence s;
    int len = 6 + (i * 7) % 11;
    s.ids.push_back(1);
    s.weights.push_back(0);
    for (int t = 0; t < len; ++t) {
      s.ids.push_back(3 + (i + t) % 40);
      s.weights.push_back(t < 2 ? 0.1f : 1.0f);
    }
    s.ids.push_back(2);
    s.weights.push_back(1.0f);
    (i < n_train ? data.train : data.eval).push_back(s);
    if (i < n_train) data.train_labels.push_back("seq " + std::to_string(i));
  }
  return data;
}

inline TrainingSetup base_setup(const std::string& run_dir) {
  TrainingSetup s;
  s.train.mode = TrainMode::Lora;
  s.train.epochs = 2;
  s.train.micro_batch = 3;
  s.train.grad_accum = 2;
  s.train.lr = 1e-2;
  s.train.schedule = ScheduleKind::Cosine;
  s.train.warmup_steps = 1;
  s.train.max_grad_norm = 1.0;
  s.train.weight_decay = 0.01;
  s.train.eval_every = 2;
  s.seed = 5;
  s.run_dir = run_dir;
  s.quiet = true;
  return s;
}

inline void add_lora(Decoder& d) {
  LoraSpec spec;
  spec.r = 4;
  spec.alpha = 8;
  spec.dropout = 0.1;  // exercises the RNG state in checkpoints
  spec.targets = {"all-linear", "lm_head"};  // a random base's lm_head is too small to learn without it
  inject_lora(*d, spec, 5);
}

}  // namespace psy::test
