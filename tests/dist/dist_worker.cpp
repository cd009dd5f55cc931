// A small program the dist tests start as ranks (through psy::dist::launch_local):
//   dist_worker fail RANK CODE      rank RANK prints an error and exits CODE; the others wait
//   dist_worker wait DIR            writes DIR/started.<rank>, then sleeps until signalled;
//                                   on SIGTERM/SIGINT writes DIR/signal.<rank> and exits 143
//   dist_worker collectives         checks all-reduce, buckets, broadcast, barrier (exit 0 = ok)
//   dist_worker train OUT [wrong]   trains the tiny model; rank 0 saves the adapter to OUT
//   dist_worker loop OUT ACCUM      psy's training loop (run_training) on a tiny random decoder
//                                   with LoRA; rank 0 saves the adapter and losses to OUT
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "libpsy/core/error.h"
#include "libpsy/dist/gradient_buckets.h"
#include "libpsy/dist/process_group.h"
#include "libpsy/dist/torchrun_env.h"
#include "tests/dist/tiny_training.h"
#include "tests/dist/loop_training.h"

namespace {

volatile sig_atomic_t g_signal = 0;
extern "C" void on_signal(int sig) { g_signal = sig; }

void expect(bool ok, const std::string& what) {
  if (!ok) throw psy::Error("collectives check failed: " + what, 1);
}

int collectives(const psy::dist::ProcessGroup& pg) {
  const int r = pg.rank(), n = pg.world_size();
  const double total = pg.all_reduce_sum(static_cast<double>(r + 1) * 0.5);
  expect(total == 0.25 * n * (n + 1), "scalar all-reduce gave " + std::to_string(total));
  expect(pg.all_reduce_max(static_cast<double>(r)) == n - 1, "max all-reduce");

  // Bucketed gradients: 5 tensors of mixed sizes with 64-byte buckets; rank 0 leaves one
  // gradient undefined (as a rank without micro-batches would).
  std::vector<torch::Tensor> params;
  for (int i = 0; i < 5; ++i) params.push_back(torch::zeros({i + 1, 3}).requires_grad_());
  for (int i = 0; i < 5; ++i)
    if (!(r == 0 && i == 2)) params[static_cast<size_t>(i)].mutable_grad() = torch::full({i + 1, 3}, static_cast<double>(r + 1) * (i + 1));
  psy::dist::all_reduce_gradients(pg, params, 64);
  for (int i = 0; i < 5 && n > 1; ++i) {
    double expected = 0;
    for (int k = 0; k < n; ++k)
      if (!(k == 0 && i == 2)) expected += (k + 1) * (i + 1);
    expect(params[static_cast<size_t>(i)].grad().defined() &&
               params[static_cast<size_t>(i)].grad().allclose(torch::full({i + 1, 3}, expected)),
           "bucketed gradient " + std::to_string(i));
  }
  std::vector<torch::Tensor> values = {torch::full({4}, static_cast<double>(r)), torch::full({2, 2}, 10.0 + r)};
  psy::dist::broadcast_parameters(pg, values, n - 1);
  expect(values[0].allclose(torch::full({4}, static_cast<double>(n - 1))) && values[1].allclose(torch::full({2, 2}, 10.0 + n - 1)),
         "broadcast from the last rank");
  pg.barrier();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    const auto env = psy::dist::read_dist_env();
    if (mode == "fail") {
      if (argc < 4) throw psy::Error("usage: dist_worker fail RANK CODE");
      if (env.rank == std::stoi(argv[2])) {
        std::cerr << "loading data...\nerror: rank " << env.rank << " could not read the batch (on purpose)\n";
        return std::stoi(argv[3]);
      }
      std::this_thread::sleep_for(std::chrono::seconds(60));
      return 0;
    }
    if (mode == "wait") {
      struct sigaction a{};
      a.sa_handler = on_signal;
      sigaction(SIGTERM, &a, nullptr);
      sigaction(SIGINT, &a, nullptr);
      const std::string dir = argc > 2 ? argv[2] : ".";
      std::ofstream(dir + "/started." + std::to_string(env.rank)) << getpid();
      for (int i = 0; i < 600 && g_signal == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::ofstream(dir + "/signal." + std::to_string(env.rank)) << g_signal;
      return g_signal != 0 ? 143 : 0;
    }
    torch::set_num_threads(1);
    const auto pg = psy::dist::ProcessGroup::join(env, "gloo");
    if (mode == "collectives") return collectives(pg);
    if (mode == "train") {
      if (argc < 3) throw psy::Error("usage: dist_worker train OUT [wrong]");
      psy::test::TinyTrainConfig config;
      config.mean_of_rank_means = argc > 3 && std::string(argv[3]) == "wrong";
      auto result = psy::test::train_tiny(pg, config);
      pg.barrier();
      if (pg.rank() == 0) {
        result.params.push_back(torch::tensor(result.losses, torch::kFloat64));
        torch::save(result.params, argv[2]);
      }
      return 0;
    }
    if (mode == "loop") {
      if (argc < 4) throw psy::Error("usage: dist_worker loop OUT ACCUM");
      auto result = psy::test::train_with_loop(pg, std::stoi(argv[3]));
      if (pg.rank() == 0) torch::save(result, argv[2]);
      return 0;
    }
    throw psy::Error("dist_worker: unknown mode '" + mode + "'");
  } catch (const psy::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
