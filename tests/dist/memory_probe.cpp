// Measures the peak resident memory of LoRA training steps on a small random decoder on CPU and
// prints it next to psy plan's estimate (libpsy/dist/memory_plan.h), one JSON object:
//   memory_probe HIDDEN LAYERS VOCAB SEQ MICRO_BATCH R
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <string>

#include "libpsy/dist/memory_plan.h"
#include "libpsy/nn/attention.h"
#include "libpsy/nn/decoder.h"
#include "libpsy/train/adamw.h"
#include "libpsy/train/weighted_loss.h"
#include "tests/tiny_decoder.h"

namespace {
int64_t current_rss() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}
int64_t peak_rss() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) * 1024;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: memory_probe HIDDEN LAYERS VOCAB SEQ MICRO_BATCH R\n";
    return 2;
  }
  torch::set_num_threads(1);
  // Large blocks through mmap, so freed activations leave the resident set and the peak RSS
  // tracks the live tensors rather than glibc's heap high-water mark.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  const psy::DecoderConfig c =
      psy::test::llama_shape_of_width(std::stoll(argv[1]), std::stoll(argv[2]), std::stoll(argv[3])).config();
  const int64_t seq = std::stoll(argv[4]), batch = std::stoll(argv[5]);
  const int r = std::stoi(argv[6]);
  {  // warm up the allocator and LibTorch's lazy initialisation on a tiny problem
    torch::Tensor t = torch::randn({64, 64}, torch::requires_grad());
    torch::matmul(t, t).sum().backward();
  }
  const int64_t before = current_rss();

  psy::Decoder d(c, psy::DecoderOptions{});
  d->init_random_weights();
  std::vector<torch::Tensor> params;
  const std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  for (auto& [name, proj] : d->projections()) {
    if (name == "lm_head") continue;
    proj->add_lora(r, 2.0 * r);
    params.push_back(proj->lora_A);
    params.push_back(proj->lora_B);
  }
  psy::AdamW opt(params, psy::AdamWOptions{});
  torch::Tensor ids = torch::randint(3, c.vocab_size, {batch, seq});
  torch::Tensor w = torch::ones({batch, seq});
  for (int step = 0; step < 2; ++step) {
    psy::weighted_next_token_loss(d->forward(ids), ids, w).backward();
    opt.step();
    opt.zero_grad();
  }
  const int64_t measured = peak_rss() - before;

  psy::dist::MemoryPlanInput in;
  in.model = c;
  in.weight_bytes = 4;
  in.compute_bytes = 4;
  in.lora_r = r;
  in.lora_targets = targets;
  in.micro_batch = static_cast<int>(batch);
  in.seq_len = seq;
  in.cuda = false;
  in.fused_attention = psy::fused_attention_available();  // what this build's decoder runs
  psy::dist::DeviceMemory e = psy::dist::estimate_single(in, false);
  const int64_t estimate = e.train_total() - e.overhead;
  std::cout << "{\"measured_peak_bytes\": " << measured << ", \"estimate_bytes\": " << estimate
            << ", \"weights\": " << e.weights << ", \"lora\": " << e.lora << ", \"optimizer\": " << e.optimizer
            << ", \"activations\": " << e.activations_full << "}\n";
  return 0;
}
