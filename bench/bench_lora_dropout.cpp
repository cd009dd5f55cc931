// bench-libs: psy_process psy_nn psy_core
// LoRA dropout in training, one projection's forward + backward: psy's projection (lora_branch.h:
// a hashed mask, nothing kept but x) against the composition PEFT runs and psy ran before
// (torch::dropout, then lora_A and lora_B as two linears), in the same process, alternating.
// SmolLM2-135M-Instruct's projection shapes (q/o 576->576, k/v 576->192, gate/up 576->1536,
// down 1536->576), a frozen fp32 base weight, LoRA r 16 / alpha 32, x requiring grad (as in every
// layer but the first). Prints the median ms per shape and the sum over one layer's seven
// projections, which 30 layers repeat; "no dropout" is psy's projection at dropout 0, the floor.
//   bench_lora_dropout [--tokens T] [--reps N] [--threads N] [--dropout P]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "bench/bench_cli.h"
#include "libpsy/nn/projection.h"
#include "libpsy/runtime/process_environment.h"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Forward + backward of the composition: base product plus scaling * B(A(dropout(x))).
void composition_step(psy::Projection& p, const torch::Tensor& x, const torch::Tensor& upstream, double dropout) {
  torch::Tensor h = torch::dropout(x, dropout, /*train=*/true);
  torch::Tensor delta = torch::nn::functional::linear(torch::nn::functional::linear(h, p->lora_A), p->lora_B);
  torch::Tensor y = torch::nn::functional::linear(x, p->weight).add_(delta, p->lora_scaling);
  (y * upstream).sum().backward();
}

void psy_step(psy::Projection& p, const torch::Tensor& x, const torch::Tensor& upstream) {
  (p->forward(x) * upstream).sum().backward();
}

template <typename Fn>
double time_ms(Fn fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  psy::settle_process_environment(argv);  // OpenBLAS kernels and OpenMP policy as psy runs them
  int64_t tokens = 1024;
  int reps = 15, threads = 2;
  double dropout = 0.05;
  psy::ArgParser p("bench_lora_dropout", "LoRA dropout in training: psy's projection against PEFT's composition, one projection at a time.");
  p.option("tokens", "T", "rows of x", "1024")
      .option("reps", "N", "timed repetitions per shape", "15")
      .option("threads", "N", "LibTorch threads", "2")
      .option("dropout", "P", "LoRA dropout probability, in [0, 1)", "0.05");
  if (const int done = psy::bench::parse(p, argc, argv, [&](const psy::ParsedArgs& a) {
        tokens = psy::bench::at_least(a, "tokens", 1);
        reps = static_cast<int>(psy::bench::at_least(a, "reps", 1));
        threads = static_cast<int>(psy::bench::at_least(a, "threads", 1));
        dropout = psy::bench::fraction(a, "dropout", /*one_allowed=*/false);
      });
      done >= 0)
    return done;
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  std::printf("bench_lora_dropout: %lld tokens, LoRA r 16 / alpha 32 / dropout %g, fp32, %d threads, median of %d\n",
              static_cast<long long>(tokens), dropout, threads, reps);
  std::printf("%-18s %6s %12s %16s %8s %16s\n", "projection", "count", "psy (ms)", "composition (ms)", "ratio",
              "no dropout (ms)");
  struct Shape {
    const char* name;
    int64_t in, out, count;
  };
  double layer_psy = 0, layer_composition = 0, layer_floor = 0;
  for (const Shape& s : {Shape{"q/o 576->576", 576, 576, 2}, Shape{"k/v 576->192", 576, 192, 2},
                         Shape{"gate/up 576->1536", 576, 1536, 2}, Shape{"down 1536->576", 1536, 576, 1}}) {
    psy::Projection p(s.in, s.out, torch::TensorOptions());
    p->weight.normal_(0, 0.02);
    p->add_lora(16, 32.0, dropout);
    {
      torch::NoGradGuard g;
      p->lora_B.normal_(0, 0.02);
    }
    p->train();
    torch::Tensor x = torch::randn({tokens, s.in}).requires_grad_(true), upstream = torch::randn({tokens, s.out});
    std::vector<double> mine, theirs, floor;
    for (int r = 0; r < reps + 2; ++r) {  // two warm-up rounds
      const double a = time_ms([&] { psy_step(p, x, upstream); });
      const double b = time_ms([&] { composition_step(p, x, upstream, dropout); });
      p->lora_dropout = 0.0;
      const double c = time_ms([&] { psy_step(p, x, upstream); });
      p->lora_dropout = dropout;
      if (r >= 2) {
        mine.push_back(a);
        theirs.push_back(b);
        floor.push_back(c);
      }
      x.mutable_grad() = torch::Tensor();
      p->zero_grad();
    }
    const double m = median(mine), t = median(theirs), f = median(floor);
    layer_psy += m * s.count;
    layer_composition += t * s.count;
    layer_floor += f * s.count;
    std::printf("%-18s %6lld %12.2f %16.2f %7.2fx %16.2f\n", s.name, static_cast<long long>(s.count), m, t, t / m, f);
  }
  std::printf("%-18s %6s %12.2f %16.2f %7.2fx %16.2f\n", "one layer", "7", layer_psy, layer_composition,
              layer_composition / layer_psy, layer_floor);
  return 0;
}
