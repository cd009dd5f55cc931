// bench-libs: psy_process psy_train psy_nn psy_dist psy_io psy_runtime psy_core
// Training speed and memory: LoRA fine-tuning of a ~58M-parameter Llama-shaped model (hidden
// 512, 8 layers, 8 heads, intermediate 1376, vocab 32000, random weights) on CPU, with and
// without per-layer gradient checkpointing, against the same loop in Python/PyTorch
// (bench/baselines/train_torch.py, Debian's python3-torch) run in the same invocation.
// Each configuration runs in its own child process so that its peak RSS is its own.
//   bench_train [--threads N] [--batch B] [--seq T] [--steps N] [--runs N] [--no-python]
// On a GPU: --device cuda --shape mistral-7b --dtype bf16 --lora paper [--ckpt-only] runs the
// paper's setting (Mistral-7B shape, random bf16 weights, LoRA r 256 / alpha 128 / dropout 0.05
// on q,k,v,o,gate,up,down and lm_head) against Hugging Face transformers + PEFT
// (bench/baselines/train_hf_peft.py) with the same step; memory is the CUDA allocator's peak.
// A step = forward + weighted CE (psy: the trainer's chunked lm_head loss, train_forward.h's
// training_loss; --loss plain builds the full logits) + backward + clip + AdamW over B x T tokens; tokens/s is the
// median over the measured steps (after 2 warm-up steps), then the median over runs.
// --lora-dropout P sets psy's LoRA dropout (the CPU PyTorch baseline, train_torch.py, has none).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "bench/bench_cli.h"
#include "libpsy/dist/memory_plan.h"
#include "libpsy/io/hf_config.h"
#include "libpsy/nn/decoder.h"
#include "libpsy/nn/lora.h"
#include "libpsy/runtime/cuda_memory.h"
#include "libpsy/train/adamw.h"
#include "libpsy/train/grad_clip.h"
#include "libpsy/train/memory_usage.h"
#include "libpsy/train/train_forward.h"
#include "libpsy/train/weighted_loss.h"
#include "libpsy/runtime/process_environment.h"

namespace {

struct Options {
  int threads = 2, batch = 2, seq = 256, steps = 4, runs = 3, warmup = 2;
  bool python = true;
  std::string device = "cpu", shape = "58m", dtype = "fp32", lora = "r16";
  bool ckpt_only = false;
  bool plain_loss = false;  // --loss plain: full [tokens x vocab] logits instead of the chunked loss
  double lora_dropout = -1;  // --lora-dropout P: overrides the LoRA setting's dropout (r16: 0, paper: 0.05)
  double dropout() const { return lora_dropout >= 0 ? lora_dropout : lora == "paper" ? 0.05 : 0.0; }
  bool cuda() const { return device.rfind("cuda", 0) == 0; }
};

struct Figures {
  double tokens_per_s = 0;
  double peak_rss_mb = 0;  // on CUDA: the caching allocator's peak allocated bytes
};

// The 58M bench shape, or Mistral-7B's (psy plan's built-in shape) for the GPU setting.
psy::DecoderConfig bench_config(const Options& o) {
  psy::DecoderConfig c;
  if (o.shape != "58m") {  // mistral-7b, qwen2.5-7b, ... (psy plan's built-in shapes)
    c = psy::dist::known_model_shape(o.shape);
  } else {
    c = psy::parse_decoder_config(
        R"({"model_type":"llama","architectures":["LlamaForCausalLM"],"vocab_size":32000,"hidden_size":512,
            "intermediate_size":1376,"num_hidden_layers":8,"num_attention_heads":8,"num_key_value_heads":8,
            "rms_norm_eps":1e-5,"max_position_embeddings":2048,"tie_word_embeddings":false})",
        "bench");
  }
  c.torch_dtype = o.dtype == "bf16" ? "bfloat16" : "float32";
  return c;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Figures run_psy(const Options& o, bool checkpoint) {
  torch::set_num_threads(o.threads);
  psy::DecoderConfig c = bench_config(o);
  torch::manual_seed(0);
  psy::DecoderOptions dopt;
  dopt.device = torch::Device(o.device);
  dopt.dtype = o.dtype == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  psy::Decoder d(c, dopt);
  d->init_random_weights();
  psy::LoraSpec spec;
  spec.r = 16;
  spec.alpha = 32;
  spec.targets = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  if (o.lora == "paper") {
    spec.r = 256;
    spec.alpha = 128;
    spec.targets.push_back("lm_head");
  }
  spec.dropout = o.dropout();
  psy::inject_lora(*d, spec, 0);
  std::vector<torch::Tensor> params;
  for (auto& [n, t] : psy::lora_parameters(*d)) params.push_back(t);
  psy::AdamWOptions ao;
  ao.lr = 1e-4;
  ao.weight_decay = 0;
  psy::AdamW opt(params, ao);
  d->train();
  const auto on = torch::TensorOptions().device(dopt.device);
  torch::Tensor ids = torch::randint(3, c.vocab_size, {o.batch, o.seq}, on.dtype(torch::kLong));
  torch::Tensor mask = torch::ones({o.batch, o.seq}, on.dtype(torch::kLong));
  torch::Tensor w = torch::ones({o.batch, o.seq}, on);
  w.slice(1, 0, o.seq / 2).fill_(0.1);
  const int dev_index = dopt.device.is_cuda() ? std::max<int>(0, dopt.device.index()) : 0;
  if (dopt.device.is_cuda()) psy::reset_cuda_peak_memory(dev_index);
  std::vector<double> times;
  for (int s = 0; s < o.warmup + o.steps; ++s) {
    auto t0 = std::chrono::steady_clock::now();
    opt.zero_grad();
    const double denom = psy::loss_denominator(w, psy::PlwNormalization::WeightSum);
    psy::training_loss(*d, ids, mask, w, denom, checkpoint, o.plain_loss ? -1 : 0).backward();
    psy::clip_grad_norm(params, o.lora == "paper" ? 0.3 : 1.0);
    opt.step();
    if (dopt.device.is_cuda()) torch::cuda::synchronize();
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s >= o.warmup) times.push_back(dt);
  }
  Figures f;
  f.tokens_per_s = o.batch * o.seq / median(times);
  f.peak_rss_mb = static_cast<double>(dopt.device.is_cuda() ? psy::cuda_peak_allocated_bytes(dev_index)
                                                              : psy::peak_rss_bytes()) /
                  1048576.0;
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
  const std::string script = o.cuda() ? "/bench/baselines/train_hf_peft.py" : "/bench/baselines/train_torch.py";
  std::string cmd = std::string(py ? py : "/usr/bin/python3") + " " + PSY_SOURCE_DIR + script + " --threads " +
                    std::to_string(o.threads) + " --batch " + std::to_string(o.batch) + " --seq " +
                    std::to_string(o.seq) + " --steps " + std::to_string(o.steps) + " --warmup " +
                    std::to_string(o.warmup) + " --ckpt " + (checkpoint ? "1" : "0");
  if (o.cuda()) cmd += " --device " + o.device + " --shape " + o.shape + " --dtype " + o.dtype + " --lora " + o.lora;
  cmd += " 2>/dev/null";
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
  f.peak_rss_mb = num(o.cuda() ? "cuda_peak_allocated_bytes" : "peak_rss_bytes") / 1048576.0;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  psy::settle_process_environment(argv);  // OpenBLAS kernels and OpenMP policy as psy runs them
  Options o;
  psy::ArgParser p("bench_train", "LoRA training steps on a model shape, psy against PyTorch/PEFT (tokens/s and peak memory).");
  p.option("threads", "N", "CPU threads", "2")
      .option("batch", "B", "sequences per step", "2")
      .option("seq", "T", "tokens per sequence", "256")
      .option("steps", "N", "measured steps per run", "4")
      .option("warmup", "N", "steps before measuring", "2")
      .option("runs", "N", "runs (median reported)", "3")
      .flag("no-python", "skip the Python baseline")
      .option("device", "cpu|cuda[:N]", "where the steps run", "cpu")
      .option("shape", "NAME", "58m, or a shape psy plan knows (mistral-7b, qwen2.5-7b, ...)", "58m")
      .option("dtype", "fp32|bf16", "the model's dtype", "fp32")
      .option("lora", "r16|paper", "r16/alpha32 on the attention and MLP, or the paper's r256/alpha128 with lm_head", "r16")
      .flag("ckpt-only", "only the run with gradient checkpointing")
      .option("loss", "chunked|plain", "the chunked lm_head loss, or full logits", "chunked")
      .option("lora-dropout", "P", "overrides the LoRA setting's dropout (r16: 0, paper: 0.05)");
  if (const int done = psy::bench::parse(p, argc, argv, [&](const psy::ParsedArgs& a) {
        o.threads = static_cast<int>(psy::bench::at_least(a, "threads", 1));
        o.batch = static_cast<int>(psy::bench::at_least(a, "batch", 1));
        o.seq = static_cast<int>(psy::bench::at_least(a, "seq", 2));
        o.steps = static_cast<int>(psy::bench::at_least(a, "steps", 1));
        o.warmup = static_cast<int>(psy::bench::at_least(a, "warmup", 0));
        o.runs = static_cast<int>(psy::bench::at_least(a, "runs", 1));
        o.python = !a.flag("no-python");
        o.device = psy::bench::device(a, "device");
        o.shape = a.get("shape");
        if (o.shape != "58m") psy::dist::known_model_shape(o.shape);  // refuses an unknown name, listing the known ones
        o.dtype = psy::bench::choice(a, "dtype", {"fp32", "bf16"});
        o.lora = psy::bench::choice(a, "lora", {"r16", "paper"});
        o.ckpt_only = a.flag("ckpt-only");
        o.plain_loss = psy::bench::choice(a, "loss", {"chunked", "plain"}) == "plain";
        if (a.given("lora-dropout")) o.lora_dropout = psy::bench::fraction(a, "lora-dropout", /*one_allowed=*/false);
      });
      done >= 0)
    return done;
  std::printf("bench_train: LoRA %s, dropout %g, on %s of a %s shape (%s) on %s; batch %d x %d tokens; "
              "%d threads; %d warm-up + %d measured steps; median of %d runs\n",
              o.lora == "paper" ? "r256/alpha128" : "r16/alpha32", o.dropout(), o.lora == "paper" ? "q,k,v,o,gate,up,down,lm_head" : "q,k,v,o,gate,up,down",
              o.shape.c_str(), o.dtype.c_str(), o.device.c_str(), o.batch, o.seq, o.threads, o.warmup, o.steps, o.runs);
  std::printf("%-28s %14s %16s\n", "configuration", "tokens/s", o.cuda() ? "peak CUDA (MiB)" : "peak RSS (MiB)");
  for (bool ckpt : {false, true}) {
    if (o.ckpt_only && !ckpt) continue;
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
      std::printf("%-28s %14.1f %16.1f\n", ckpt ? (o.cuda() ? "HF+PEFT, checkpointing" : "PyTorch, checkpointing") : (o.cuda() ? "HF+PEFT" : "PyTorch"), median(ptps), median(prss));
    else if (o.python)
      std::printf("%-28s %14s\n", ckpt ? "baseline, checkpointing" : "baseline", "(baseline failed or its Python packages are missing)");
    std::fflush(stdout);
  }
  return 0;
}
