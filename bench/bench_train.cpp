// bench-libs: psy_train psy_nn psy_io psy_core
// Training speed and memory: LoRA fine-tuning of a ~58M-parameter Llama-shaped model (hidden
// 512, 8 layers, 8 heads, intermediate 1376, vocab 32000, random weights) on CPU, with and
// without per-layer gradient checkpointing, against the same loop in Python/PyTorch
// (bench/baselines/train_torch.py, Debian's python3-torch) run in the same invocation.
// Each configuration runs in its own child process so that its peak RSS is its own.
//   bench_train [--threads N] [--batch B] [--seq T] [--steps N] [--runs N] [--no-python]
// A step = forward + weighted CE + backward + clip + AdamW over B x T tokens; tokens/s is the
// median over the measured steps (after 2 warm-up steps), then the median over runs.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "libpsy/io/hf_config.h"
#include "libpsy/nn/decoder.h"
#include "libpsy/nn/lora.h"
#include "libpsy/train/adamw.h"
#include "libpsy/train/grad_clip.h"
#include "libpsy/train/memory_usage.h"
#include "libpsy/train/train_forward.h"
#include "libpsy/train/weighted_loss.h"

namespace {

struct Options {
  int threads = 2, batch = 2, seq = 256, steps = 4, runs = 3, warmup = 2;
  bool python = true;
};

struct Figures {
  double tokens_per_s = 0;
  double peak_rss_mb = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Figures run_psy(const Options& o, bool checkpoint) {
  torch::set_num_threads(o.threads);
  psy::DecoderConfig c = psy::parse_decoder_config(
      R"({"model_type":"llama","architectures":["LlamaForCausalLM"],"vocab_size":32000,"hidden_size":512,
          "intermediate_size":1376,"num_hidden_layers":8,"num_attention_heads":8,"num_key_value_heads":8,
          "rms_norm_eps":1e-5,"max_position_embeddings":2048,"tie_word_embeddings":false,"torch_dtype":"float32"})",
      "bench");
  torch::manual_seed(0);
  psy::Decoder d(c, psy::DecoderOptions{});
  d->init_random_weights();
  psy::LoraSpec spec;
  spec.r = 16;
  spec.alpha = 32;
  spec.targets = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  psy::inject_lora(*d, spec, 0);
  std::vector<torch::Tensor> params;
  for (auto& [n, t] : psy::lora_parameters(*d)) params.push_back(t);
  psy::AdamWOptions ao;
  ao.lr = 1e-4;
  ao.weight_decay = 0;
  psy::AdamW opt(params, ao);
  d->train();
  torch::Tensor ids = torch::randint(3, 32000, {o.batch, o.seq}, torch::kLong);
  torch::Tensor mask = torch::ones({o.batch, o.seq}, torch::kLong);
  torch::Tensor w = torch::ones({o.batch, o.seq});
  w.slice(1, 0, o.seq / 2).fill_(0.1);
  std::vector<double> times;
  for (int s = 0; s < o.warmup + o.steps; ++s) {
    auto t0 = std::chrono::steady_clock::now();
    opt.zero_grad();
    torch::Tensor logits = psy::training_forward(*d, ids, mask, checkpoint);
    psy::weighted_next_token_loss(logits, ids, w).backward();
    psy::clip_grad_norm(params, 1.0);
    opt.step();
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s >= o.warmup) times.push_back(dt);
  }
  Figures f;
  f.tokens_per_s = o.batch * o.seq / median(times);
  f.peak_rss_mb = static_cast<double>(psy::peak_rss_bytes()) / 1048576.0;
  return f;
}

// Runs `fn` in a child process and reads its two numbers back through a pipe.
template <typename Fn>
Figures in_child(Fn fn) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    Figures f = fn();
    double out[2] = {f.tokens_per_s, f.peak_rss_mb};
    ssize_t ignored = write(fds[1], out, sizeof out);
    (void)ignored;
    _exit(0);
  }
  close(fds[1]);
  double in[2] = {0, 0};
  ssize_t got = read(fds[0], in, sizeof in);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != static_cast<ssize_t>(sizeof in)) return {};
  return {in[0], in[1]};
}

Figures run_python(const Options& o, bool checkpoint) {
  const char* py = std::getenv("PSY_BENCH_PYTHON");
  std::string cmd = std::string(py ? py : "/usr/bin/python3") + " " + PSY_SOURCE_DIR +
                    "/bench/baselines/train_torch.py --threads " + std::to_string(o.threads) + " --batch " +
                    std::to_string(o.batch) + " --seq " + std::to_string(o.seq) + " --steps " +
                    std::to_string(o.steps) + " --warmup " + std::to_string(o.warmup) + " --ckpt " +
                    (checkpoint ? "1" : "0") + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {};
  char buf[1024];
  std::string out;
  while (fgets(buf, sizeof buf, p)) out += buf;
  if (pclose(p) != 0) return {};
  Figures f;
  auto num = [&](const std::string& key) {
    auto at = out.find("\"" + key + "\": ");
    return at == std::string::npos ? 0.0 : std::atof(out.c_str() + at + key.size() + 4);
  };
  f.tokens_per_s = num("tokens_per_s");
  f.peak_rss_mb = num("peak_rss_bytes") / 1048576.0;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--threads") o.threads = next();
    else if (a == "--batch") o.batch = next();
    else if (a == "--seq") o.seq = next();
    else if (a == "--steps") o.steps = next();
    else if (a == "--runs") o.runs = next();
    else if (a == "--no-python") o.python = false;
    else {
      std::fprintf(stderr, "usage: bench_train [--threads N] [--batch B] [--seq T] [--steps N] [--runs N] [--no-python]\n");
      return 2;
    }
  }
  std::printf("bench_train: LoRA r16 on q,k,v,o,gate,up,down of a 58M-param Llama shape; batch %d x %d tokens; "
              "%d threads; %d warm-up + %d measured steps; median of %d runs\n",
              o.batch, o.seq, o.threads, o.warmup, o.steps, o.runs);
  std::printf("%-28s %14s %16s\n", "configuration", "tokens/s", "peak RSS (MiB)");
  for (bool ckpt : {false, true}) {
    std::vector<double> tps, rss, ptps, prss;
    for (int r = 0; r < o.runs; ++r) {
      Figures f = in_child([&] { return run_psy(o, ckpt); });
      tps.push_back(f.tokens_per_s);
      rss.push_back(f.peak_rss_mb);
      if (o.python) {
        Figures p = run_python(o, ckpt);
        ptps.push_back(p.tokens_per_s);
        prss.push_back(p.peak_rss_mb);
      }
    }
    std::printf("%-28s %14.1f %16.1f\n", ckpt ? "psy, checkpointing" : "psy", median(tps), median(rss));
    if (o.python && median(ptps) > 0)
      std::printf("%-28s %14.1f %16.1f\n", ckpt ? "PyTorch, checkpointing" : "PyTorch", median(ptps), median(prss));
    else if (o.python)
      std::printf("%-28s %14s\n", ckpt ? "PyTorch, checkpointing" : "PyTorch", "(python3-torch missing)");
    std::fflush(stdout);
  }
  return 0;
}
