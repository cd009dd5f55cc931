// bench-libs: psy_process psy_nn psy_io psy_core
// One decode step of a real model alone, for profiling it (perf record): R rows (sequences) of one
// new token each over P cached positions, repeated N times, greedy. Prints the median and best step.
// With --prefill M, each step is instead an admission's prefill: M new tokens per row after the P
// cached positions (the cache is cut back to P after each). --layers picks how a decode step runs its
// layers: raw (decode_layers_cpu.h, psy's default), modules (the module path), or both, alternating
// step by step with a model and cache each, so the two are compared in the same minutes. With
// --ragged, row r's first r * P / R cached columns are masked, as continuous batching right-aligns
// rows of different lengths in one cache (about 44% of the columns masked with 8 rows; the English
// test split's workload had 42%).
//   bench_decode_step MODEL_DIR [--rows R] [--past P] [--steps N] [--threads T] [--dtype fp32|bf16] [--prefill M]
//                     [--layers raw|modules|both] [--ragged]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "bench/bench_cli.h"
#include "libpsy/nn/decode_layers_cpu.h"
#include "libpsy/nn/kv_cache.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/runtime/process_environment.h"

int main(int argc, char** argv) {
  psy::settle_process_environment(argv);
  std::string model;
  int64_t rows = 8, past = 200, prefill = 0;
  int steps = 200, threads = 2;
  torch::ScalarType dtype = torch::kFloat32;
  psy::ArgParser p("bench_decode_step", "One decode step (or one admission's prefill) of a real model, repeated.");
  p.positional("model_dir", "a Hugging Face model folder")
      .option("rows", "R", "sequences, one new token each", "8")
      .option("past", "P", "cached positions before the first step", "200")
      .option("steps", "N", "timed steps", "200")
      .option("threads", "T", "LibTorch threads", "2")
      .option("dtype", "fp32|bf16", "the model's dtype", "fp32")
      .option("prefill", "M", "time a prefill of M new tokens after P cached instead (needs --rows 1)", "0")
      .option("layers", "raw|modules|both", "a decode step's layers on raw buffers, through the modules, or both alternating", "raw")
      .flag("ragged", "mask row r's first r * P / R cached columns, as continuous batching does");
  std::string layers = "raw";
  bool ragged = false;
  if (const int done = psy::bench::parse(p, argc, argv, [&](const psy::ParsedArgs& a) {
        model = a.list("model_dir").front();
        rows = psy::bench::at_least(a, "rows", 1);
        past = psy::bench::at_least(a, "past", 1);
        steps = static_cast<int>(psy::bench::at_least(a, "steps", 1));
        threads = static_cast<int>(psy::bench::at_least(a, "threads", 1));
        prefill = psy::bench::at_least(a, "prefill", 0);
        dtype = psy::bench::choice(a, "dtype", {"fp32", "bf16"}) == "bf16" ? torch::kBFloat16 : torch::kFloat32;
        layers = psy::bench::choice(a, "layers", {"raw", "modules", "both"});
        ragged = a.flag("ragged");
        if (prefill > 0 && rows != 1) throw psy::Error("--prefill times one prompt's admission; give --rows 1");
        if (prefill > 0 && ragged) throw psy::Error("--ragged masks decode steps' columns; it does not go with --prefill");
      });
      done >= 0)
    return done;
  torch::set_num_threads(threads);
  torch::NoGradGuard no_grad;
  // One model (and cache) per way of running the layers; "both" alternates them step by step.
  struct Run {
    std::string name;
    psy::Decoder d{nullptr};
    psy::KVCache cache{0};
    torch::Tensor logits;
    std::vector<double> ms;
  };
  std::vector<Run> runs;
  for (const std::string name : {"raw", "modules"}) {
    if (layers != "both" && layers != name) continue;
    psy::DecoderOptions o;
    o.cpu_decode_layers = name == "raw";
    Run r{name, psy::load_decoder(model, o), psy::KVCache(0), {}, {}};
    r.d->to(dtype);
    r.d->eval();
    r.cache = psy::KVCache(r.d->config().num_hidden_layers);
    r.cache.reserve(past + steps + 1);
    torch::manual_seed(1);
    r.logits = r.d->next_token_logits(torch::randint(3, 1000, {rows, past}, torch::kInt64), {}, &r.cache);
    runs.push_back(std::move(r));
  }
  const int64_t raw_steps_before = psy::decode_layers_cpu_steps();
  for (int s = 0; s < steps; ++s) {
    for (Run& r : runs) {
      if (prefill > 0) {
        psy::KVCache copy = r.cache.prefix_copy(past, past + prefill);
        const torch::Tensor ids = torch::randint(3, 1000, {rows, prefill}, torch::kInt64);
        const auto t0 = std::chrono::steady_clock::now();
        r.logits = r.d->next_token_logits(ids, {}, &copy);
        r.ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        continue;
      }
      torch::Tensor mask = torch::ones({rows, past + s + 1}, torch::kInt64);
      for (int64_t row = 0; ragged && row < rows; ++row) mask[row].narrow(0, 0, row * past / rows).zero_();
      const torch::Tensor pos = torch::full({rows, 1}, past + s, torch::kInt64);
      const auto t0 = std::chrono::steady_clock::now();
      r.logits = r.d->next_token_logits(r.logits.argmax(-1).view({rows, 1}), mask, &r.cache, pos);
      r.ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  std::vector<double> medians;
  for (Run& r : runs) {
    std::sort(r.ms.begin(), r.ms.end());
    medians.push_back(r.ms[r.ms.size() / 2]);
    std::cout << "bench_decode_step: " << rows << " rows";
    if (prefill > 0) std::cout << " of " << prefill << " new tokens";
    std::cout << " over " << past << (ragged ? " cached positions (ragged), " : " cached positions, ") << (dtype == torch::kFloat32 ? "fp32" : "bf16") << ", "
              << threads << " threads, layers " << r.name << ": " << medians.back() << " ms per step (median of "
              << r.ms.size() << "; best " << r.ms.front() << ")\n";
  }
  if (runs.size() == 2) std::cout << "  modules / raw: " << medians[1] / medians[0] << "x\n";
  if (prefill == 0 && layers != "modules" && psy::decode_layers_cpu_steps() == raw_steps_before)
    std::cout << "  (decode_layers_cpu did not apply to this model here: every step ran the modules)\n";
}
