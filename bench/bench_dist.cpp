// bench-libs: psy_process psy_dist psy_nn psy_train psy_core
// Data-parallel speed-up on CPU with Gloo: LoRA training steps of a small random decoder with
// the same global batch run by 1 process and by 2 processes (psy's launcher, loopback), each
// process with 1 thread (OMP_NUM_THREADS=1), plus 1 process with 2 threads for reference.
// Prints the median step time and tokens/s of each, and the speed-ups. Never fails on speed.
//   bench_dist [STEPS] [HIDDEN] [LAYERS] [SEQ] [GLOBAL_BATCH]
#include <filesystem>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "bench/bench_cli.h"
#include "libpsy/dist/epoch_shard.h"
#include "libpsy/dist/gradient_buckets.h"
#include "libpsy/dist/launcher.h"
#include "libpsy/dist/process_group.h"
#include "libpsy/dist/torchrun_env.h"
#include "libpsy/nn/decoder.h"
#include "libpsy/train/adamw.h"
#include "libpsy/train/weighted_loss.h"
#include "libpsy/runtime/process_environment.h"
#include "tests/tiny_decoder.h"

namespace {

struct Settings {
  int steps = 6, hidden = 256, layers = 4, seq = 256, global_batch = 8;
};

// STEPS HIDDEN LAYERS SEQ GLOBAL_BATCH, each optional (the ranks re-read the same line).
psy::ArgParser settings_parser() {
  psy::ArgParser p("bench_dist", "LoRA training steps: one process with 1 and 2 threads against two Gloo processes.");
  p.positional("steps", "measured steps (default 6)", false)
      .positional("hidden", "decoder hidden size (default 256)", false)
      .positional("layers", "decoder layers (default 4)", false)
      .positional("seq", "tokens per sequence (default 256)", false)
      .positional("global_batch", "sequences per step over all ranks (default 8)", false);
  return p;
}

void read_settings(const psy::ParsedArgs& a, Settings& s) {
  auto number = [&](const char* name, int& into) {
    const auto& given = a.list(name);
    if (given.empty()) return;
    char* end = nullptr;
    const long v = std::strtol(given.front().c_str(), &end, 10);
    if (*end != '\0' || v < 1) throw psy::Error(std::string(name) + ": " + psy::expected_found("a whole number of at least 1", "'" + given.front() + "'"));
    into = static_cast<int>(v);
  };
  number("steps", s.steps);
  number("hidden", s.hidden);
  number("layers", s.layers);
  number("seq", s.seq);
  number("global_batch", s.global_batch);
}

// One rank's part: returns the median step seconds (rank 0 writes it to $PSY_BENCH_OUT).
int run_rank(const Settings& s) {
  const auto env = psy::dist::read_dist_env();
  const auto pg = psy::dist::ProcessGroup::join(env, "gloo");
  const psy::DecoderConfig c = psy::test::llama_shape_of_width(s.hidden, s.layers, 8000).config();
  psy::Decoder d = psy::test::tiny_random_decoder(c, 1);
  std::vector<torch::Tensor> params;
  for (auto& [name, proj] : d->projections()) {
    proj->add_lora(16, 32.0);
    params.push_back(proj->lora_A);
    params.push_back(proj->lora_B);
  }
  psy::dist::broadcast_parameters(pg, params);
  psy::AdamW opt(params, psy::AdamWOptions{1e-4, 0.9, 0.999, 1e-8, 0.0});
  torch::Tensor ids = torch::randint(3, c.vocab_size, {s.global_batch, s.seq});
  torch::Tensor w = torch::ones({s.global_batch, s.seq});
  std::vector<double> times;
  for (int step = 0; step < s.steps + 1; ++step) {
    auto t0 = std::chrono::steady_clock::now();
    auto mine = psy::dist::shard_epoch(static_cast<size_t>(s.global_batch), pg.rank(), pg.world_size(),
                                       s.global_batch / pg.world_size())[0];
    double local = 0;
    for (size_t b : mine) local += psy::loss_denominator(w.narrow(0, static_cast<int64_t>(b), 1), psy::PlwNormalization::WeightSum);
    const double denom = pg.all_reduce_sum(local);
    for (size_t b : mine) {
      torch::Tensor x = ids.narrow(0, static_cast<int64_t>(b), 1);
      psy::weighted_next_token_loss(d->forward(x), x, w.narrow(0, static_cast<int64_t>(b), 1), denom).backward();
    }
    psy::dist::all_reduce_gradients(pg, params);
    opt.step();
    opt.zero_grad();
    if (step > 0) times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  if (pg.rank() == 0) {
    const char* out = std::getenv("PSY_BENCH_OUT");
    if (out != nullptr) std::ofstream(out) << times[times.size() / 2] << "\n";
  }
  return 0;
}

double launch(const Settings& s, int nproc, int threads, const std::string& out, char** argv) {
  psy::dist::LaunchOptions o;
  o.nproc = nproc;
  o.args = {std::to_string(s.steps), std::to_string(s.hidden), std::to_string(s.layers), std::to_string(s.seq),
            std::to_string(s.global_batch)};
  o.env = {{"OMP_NUM_THREADS", std::to_string(threads)}, {"PSY_BENCH_OUT", out}, {"PSY_BENCH_RANK", "1"}};
  (void)argv;
  auto r = psy::dist::launch_local(o);
  if (r.exit_code != 0) {
    std::cerr << "bench_dist: " << r.error << "\n";
    return -1;
  }
  double seconds = -1;
  std::ifstream(out) >> seconds;
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  psy::settle_process_environment(argv);  // OpenBLAS kernels and OpenMP policy as psy runs them
  Settings s;
  if (const int done = psy::bench::parse(settings_parser(), argc, argv, [&](const psy::ParsedArgs& a) { read_settings(a, s); });
      done >= 0)
    return done;
  try {
    if (std::getenv("PSY_BENCH_RANK") != nullptr) {
      torch::set_num_threads(std::max(1, std::atoi(std::getenv("OMP_NUM_THREADS") ? std::getenv("OMP_NUM_THREADS") : "1")));
      return run_rank(s);
    }
    const std::string out =
        (std::filesystem::temp_directory_path() / ("psy_bench_dist_" + std::to_string(::getpid()) + ".txt")).string();
    std::printf("bench_dist: LoRA r16 (all linears) training steps, decoder hidden %d, %d layers, vocab 8000, "
                "global batch %d x %d tokens, median of %d steps\n",
                s.hidden, s.layers, s.global_batch, s.seq, s.steps);
    const double one = launch(s, 1, 1, out, argv);
    const double one2 = launch(s, 1, 2, out, argv);
    const double two = launch(s, 2, 1, out, argv);
    const double tokens = static_cast<double>(s.global_batch) * s.seq;
    std::printf("  1 process  x 1 thread : %.3f s/step, %.0f tokens/s\n", one, tokens / one);
    std::printf("  1 process  x 2 threads: %.3f s/step, %.0f tokens/s\n", one2, tokens / one2);
    std::printf("  2 processes x 1 thread (Gloo): %.3f s/step, %.0f tokens/s\n", two, tokens / two);
    std::printf("  speed-up of 2 processes over 1 process (1 thread each): %.2fx; over 1 process with 2 threads: %.2fx\n",
                one / two, one2 / two);
    std::remove(out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_dist: error: " << e.what() << "\n";
    return 1;
  }
}
