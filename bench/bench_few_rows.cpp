// bench-libs: psy_nn psy_core
// The few-rows kernel (libpsy/nn/few_rows_matmul.h) alone, for profiling it: m rows of x through
// SmolLM2-135M's projection shapes (30 layers of q,k,v,o,gate,up,down and the 49152-row lm_head,
// random fp32 weights, 538 MB), repeated. Prints ms per pass (median), the weights' read rate and
// the multiply-add rate against the given peak.
//   bench_few_rows [--rows M] [--passes N] [--threads T] [--dtype fp32|bf16] [--isa best|avx2]
// Run it under `perf stat` / `perf record` to see where a pass goes.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "bench/bench_cli.h"
#include "libpsy/nn/few_rows_matmul.h"

int main(int argc, char** argv) {
  int64_t rows = 8;
  int passes = 10, threads = 2;
  torch::ScalarType dtype = torch::kFloat32;
  psy::FewRowsIsa isa = psy::few_rows_matmul_isa();
  psy::ArgParser p("bench_few_rows", "The few-rows kernel alone: M rows of x through SmolLM2-135M's projection shapes.");
  p.option("rows", "M", "rows of x", "8")
      .option("passes", "N", "timed passes (after one warm-up)", "10")
      .option("threads", "T", "LibTorch threads", "2")
      .option("dtype", "fp32|bf16", "weights and x", "fp32")
      .option("isa", "best|avx2", "the kernel family", "best");
  if (const int done = psy::bench::parse(p, argc, argv, [&](const psy::ParsedArgs& a) {
        rows = psy::bench::at_least(a, "rows", 1);
        passes = static_cast<int>(psy::bench::at_least(a, "passes", 1));
        threads = static_cast<int>(psy::bench::at_least(a, "threads", 1));
        dtype = psy::bench::choice(a, "dtype", {"fp32", "bf16"}) == "bf16" ? torch::kBFloat16 : torch::kFloat32;
        if (psy::bench::choice(a, "isa", {"best", "avx2"}) == "avx2") isa = psy::FewRowsIsa::Avx2;
        if (psy::few_rows_matmul_isa() == psy::FewRowsIsa::None)
          throw psy::Error("this CPU has neither AVX2 + FMA nor AVX-512 BF16: no kernel to time", psy::kExitFailure);
      });
      done >= 0)
    return done;
  torch::set_num_threads(threads);
  torch::NoGradGuard no_grad;
  const int64_t hidden = 576, intermediate = 1536, kv = 192, vocab = 49152;
  std::vector<torch::Tensor> weights;
  for (int layer = 0; layer < 30; ++layer)
    for (auto [n, k] : std::vector<std::pair<int64_t, int64_t>>{
             {hidden, hidden}, {kv, hidden}, {kv, hidden}, {hidden, hidden}, {intermediate, hidden}, {intermediate, hidden}, {hidden, intermediate}})
      weights.push_back(torch::randn({n, k}).to(dtype));
  weights.push_back(torch::randn({vocab, hidden}).to(dtype));
  int64_t bytes = 0, lanes = 0;
  for (const auto& w : weights) {
    bytes += w.numel() * static_cast<int64_t>(w.element_size());
    lanes += w.numel() * rows;
  }
  const torch::Tensor x_hidden = torch::randn({rows, hidden}).to(dtype), x_inter = torch::randn({rows, intermediate}).to(dtype);
  std::vector<double> ms;
  for (int p = 0; p < passes + 1; ++p) {
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& w : weights) psy::few_rows_matmul(w.size(1) == hidden ? x_hidden : x_inter, w, {}, isa);
    const double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (p > 0) ms.push_back(t);  // the first pass warms up
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  std::cout << "bench_few_rows: " << rows << " rows, " << (dtype == torch::kFloat32 ? "fp32" : "bf16") << ", " << threads
            << " threads, " << psy::to_string(isa) << ": " << median << " ms per pass (median of "
            << ms.size() << "; best " << ms.front() << "), weights " << bytes / 1e6 << " MB read at "
            << bytes / median / 1e6 << " GB/s, " << lanes / median / 1e6 << " G multiply-add lanes/s\n";
}
