// bench-libs: psy_process psy_train psy_nn psy_core
// Peak memory and time of lm_head + the weighted next-token loss, forward and backward, plain
// ([tokens x vocab] fp32 logits and their gradient) vs chunked (libpsy/train/chunked_head_loss.h:
// one chunk of logits at a time, weight-0 targets skipping lm_head), at vocab 32000 (Mistral /
// Llama-2) and 151936 (Qwen2.5). lm_head is a frozen fp32 [vocab, hidden] matrix with LoRA r 16
// (B random, so every path computes real gradients); hidden states [1, tokens, hidden] need a
// gradient as the decoder's would. Each (vocab, path, weights) runs in its own child process;
// memory is the child's peak RSS above its RSS before the step (the weights and inputs excluded).
//   bench_loss_memory [--tokens 2048] [--hidden 1024] [--threads 2] [--prompt-fraction 0.6]
// --prompt-fraction: the share of targets with weight 0 in the completion-only case (the rest 1);
// the "all weighted" case gives every target weight 1 (nothing skips lm_head).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "bench/bench_cli.h"
#include "libpsy/nn/projection.h"
#include "libpsy/train/chunked_head_loss.h"
#include "libpsy/train/memory_usage.h"
#include "libpsy/train/weighted_loss.h"
#include "libpsy/runtime/process_environment.h"

namespace {

struct Options {
  int64_t tokens = 2048, hidden = 1024;
  int threads = 2;
  double prompt_fraction = 0.6;
};

struct Result {
  double peak_mb = 0, ms = 0;
};

Result measure(const Options& o, int64_t vocab, bool chunked, bool completion_only) {
  torch::manual_seed(1);
  psy::Projection head(o.hidden, vocab, torch::TensorOptions().dtype(torch::kFloat32));
  {
    torch::NoGradGuard g;
    head->weight.normal_(0, 0.02);
  }
  head->add_lora(16, 32);
  {
    torch::NoGradGuard g;
    head->lora_B.normal_(0, 0.02);
  }
  torch::Tensor hidden = torch::randn({1, o.tokens, o.hidden}).requires_grad_(true);
  torch::Tensor ids = torch::randint(vocab, {1, o.tokens}, torch::kLong);
  torch::Tensor w = torch::ones({1, o.tokens});
  if (completion_only) w.narrow(1, 0, static_cast<int64_t>(o.prompt_fraction * o.tokens)).zero_();
  const double denom = w.slice(1, 1).sum().item<double>();
  const int64_t before = psy::current_rss_bytes();
  const auto t0 = std::chrono::steady_clock::now();
  torch::Tensor loss;
  if (chunked) {
    loss = psy::chunked_head_weighted_ce_sum(head, hidden, ids, w) / denom;
  } else {
    torch::Tensor logits = head->forward(hidden).to(torch::kFloat32);
    loss = psy::weighted_next_token_loss(logits, ids, w, denom);
  }
  loss.backward();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return {static_cast<double>(psy::peak_rss_bytes() - before) / 1048576.0, ms};
}

Result in_child(const Options& o, int64_t vocab, bool chunked, bool completion_only) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    torch::set_num_threads(o.threads);
    Result r = measure(o, vocab, chunked, completion_only);
    double out[2] = {r.peak_mb, r.ms};
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

}  // namespace

int main(int argc, char** argv) {
  psy::settle_process_environment(argv);  // OpenBLAS kernels and OpenMP policy as psy runs them
  setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
  Options o;
  psy::ArgParser p("bench_loss_memory", "lm_head + weighted cross-entropy, forward + backward: the plain loss against the chunked one.");
  p.option("tokens", "T", "tokens", "2048")
      .option("hidden", "H", "hidden size", "1024")
      .option("threads", "N", "LibTorch threads", "2")
      .option("prompt-fraction", "F", "share of the tokens with weight 0 in the completion-only row, in [0, 1]", "0.6");
  if (const int done = psy::bench::parse(p, argc, argv, [&](const psy::ParsedArgs& a) {
        o.tokens = psy::bench::at_least(a, "tokens", 1);
        o.hidden = psy::bench::at_least(a, "hidden", 1);
        o.threads = static_cast<int>(psy::bench::at_least(a, "threads", 1));
        o.prompt_fraction = psy::bench::fraction(a, "prompt-fraction", /*one_allowed=*/true);
      });
      done >= 0)
    return done;
  std::printf("lm_head + weighted CE, forward + backward: %lld tokens, hidden %lld, LoRA r 16 on lm_head, %d threads\n",
              static_cast<long long>(o.tokens), static_cast<long long>(o.hidden), o.threads);
  std::printf("%-8s %-28s %14s %14s %10s %10s\n", "vocab", "weights", "plain MB", "chunked MB", "plain ms",
              "chunked ms");
  for (int64_t vocab : {int64_t{32000}, int64_t{151936}}) {
    for (bool completion_only : {false, true}) {
      Result plain = in_child(o, vocab, false, completion_only);
      Result chunked = in_child(o, vocab, true, completion_only);
      char label[64];
      std::snprintf(label, sizeof label, "%s", completion_only ? "completion-only (60% w=0)" : "all weighted");
      if (completion_only && o.prompt_fraction != 0.6)
        std::snprintf(label, sizeof label, "completion-only (%.0f%% w=0)", 100 * o.prompt_fraction);
      std::printf("%-8lld %-28s %14.1f %14.1f %10.1f %10.1f\n", static_cast<long long>(vocab), label, plain.peak_mb,
                  chunked.peak_mb, plain.ms, chunked.ms);
      std::fflush(stdout);
    }
  }
  return 0;
}
