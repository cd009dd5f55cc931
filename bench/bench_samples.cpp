// bench-libs: psy_samples psy_text psy_data psy_core
// Builds and tokenises every chain-of-thought sample of the full English Psy-Insight dataset
// (../shared/data/psy-insight/en_data_version7.json) for every task, with a 32k SentencePiece
// model (BPE, byte fallback) trained at bench time from the dataset's own text and cached in
// $TMPDIR/psy_bench_tokenizer_32k. Prints the median of 5 runs. Target: under 2 s for all tasks.
//   bench_samples [--tokenizer PATH] [--runs N]
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/bench_cli.h"
#include "libpsy/core/text_file.h"
#include "libpsy/data/load_sessions.h"
#include "libpsy/data/sample_builder.h"
#include "libpsy/text/tokenizer.h"
#include "libpsy/text/tokenizer_train.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU seconds of this process (the machine may be shared; wall time then overstates).
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string tokenizer_path;
  int runs = 5;
  psy::ArgParser p("bench_samples", "Building the training samples of the whole English dataset.");
  p.option("tokenizer", "DIR", "a tokenizer folder (default: the bench's own)").option("runs", "N", "runs (median reported)", "5");
  if (const int done = psy::bench::parse(p, argc, argv, [&](const psy::ParsedArgs& a) {
        tokenizer_path = a.get("tokenizer");
        runs = static_cast<int>(psy::bench::at_least(a, "runs", 1));
      });
      done >= 0)
    return done;
  const char* shared_env = std::getenv("PSY_SHARED");
  const std::string shared = shared_env ? shared_env : std::string(PSY_SOURCE_DIR) + "/../shared";
  const std::string data = shared + "/data/psy-insight/en_data_version7.json";
  if (!psy::path_exists(data)) {
    std::cout << "bench_samples: SKIPPED (" << data << " not found; set PSY_SHARED)\n";
    return 0;
  }
  try {
    auto t0 = std::chrono::steady_clock::now();
    auto sessions = psy::load_sessions(data).sessions;
    std::cout << fmt::format("loaded {} sessions in {:.2f} s\n", sessions.size(), seconds_since(t0));

    if (tokenizer_path.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      tokenizer_path = std::string(tmp && *tmp ? tmp : "/tmp") + "/psy_bench_tokenizer_32k";
      if (!psy::path_exists(tokenizer_path + "/tokenizer.model")) {
        psy::TokenizerTrainOptions o;
        o.inputs = {data};
        o.vocab_size = 32000;
        t0 = std::chrono::steady_clock::now();
        psy::write_tokenizer(psy::train_tokenizer(o), tokenizer_path);
        std::cout << fmt::format("trained the tokenizer in {:.1f} s -> {}\n", seconds_since(t0), tokenizer_path);
      }
    }
    psy::Tokenizer tok = psy::Tokenizer::load(tokenizer_path);
    std::cout << fmt::format("tokenizer {} ({} pieces)\n", tokenizer_path, tok.vocab_size());

    struct Case {
      psy::SampleTask task;
      psy::SampleUnit unit;
    };
    std::vector<Case> cases;
    for (auto task : {psy::SampleTask::Dialog, psy::SampleTask::ReasoningDialog,
                      psy::SampleTask::ObservationReasoningDialog, psy::SampleTask::Mix})
      for (auto unit : {psy::SampleUnit::Turn, psy::SampleUnit::Session}) cases.push_back({task, unit});

    std::vector<double> totals, turn_totals, turn_cpu;
    std::vector<std::vector<double>> per_case(cases.size());
    std::vector<psy::SampleStats> stats(cases.size());
    for (int r = 0; r < runs; ++r) {
      double total = 0, turn_total = 0, cpu = 0;
      for (size_t c = 0; c < cases.size(); ++c) {
        psy::SampleOptions o;
        o.task = cases[c].task;
        o.unit = cases[c].unit;
        o.max_seq_len = 4096;
        auto t = std::chrono::steady_clock::now();
        const double c0 = cpu_seconds();
        auto set = psy::build_samples(sessions, o, tok);
        double s = seconds_since(t);
        if (cases[c].unit == psy::SampleUnit::Turn) cpu += cpu_seconds() - c0;
        per_case[c].push_back(s);
        stats[c] = set.stats;
        total += s;
        if (cases[c].unit == psy::SampleUnit::Turn) turn_total += s;
      }
      totals.push_back(total);
      turn_totals.push_back(turn_total);
      turn_cpu.push_back(cpu);
    }
    std::cout << fmt::format("{:<30} {:<8} {:>8} {:>11} {:>10} {:>9}\n", "task", "unit", "samples", "tokens",
                             "truncated", "median s");
    for (size_t c = 0; c < cases.size(); ++c)
      std::cout << fmt::format("{:<30} {:<8} {:>8} {:>11} {:>10} {:>9.3f}\n", psy::task_name(cases[c].task),
                               psy::unit_name(cases[c].unit), stats[c].samples, stats[c].tokens, stats[c].truncated,
                               median(per_case[c]));
    std::cout << fmt::format("all tasks, turn unit: median {:.3f} s wall, {:.3f} s CPU over {} runs (target < 2 s)\n",
                             median(turn_totals), median(turn_cpu), runs);
    std::cout << fmt::format("all tasks, both units: median {:.3f} s over {} runs\n", median(totals), runs);
  } catch (const std::exception& e) {
    std::cout << "bench_samples: failed: " << e.what() << "\n";
    return 0;
  }
  return 0;
}
