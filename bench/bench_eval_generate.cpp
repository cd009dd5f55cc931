// bench-libs: psy_process psy_evaluate_core psy_generate psy_nn psy_recipe psy_text psy_core nlohmann_json::nlohmann_json
// The eval workload (issue 19): greedy generation of 128 new tokens for held-out prompts, on a real
// model (SmolLM2-135M-Instruct from .reference/models/), psy vs transformers' generate in the same
// run. Prints numbers, never fails on speed.
//   bench_eval_generate [--prompts N] [--slots S] [--new-tokens T] [--threads N] [--data sample|shared]
//                       [--no-python] [--skip-static] [--skip-no-reuse] [--prefix-cache-mb MB] [--decode-only | --workload-only] [--decode-dtype fp32|bf16|both]
//                       [--device cpu|cuda] [--dtype fp32|bf16] [--model DIR]
// --device runs everything on that device (transformers too); --dtype is the workload's (default fp32);
// --model another folder of SmolLM2's kind (bench/gpu/issue19_decode.sh: its shape, random weights).
// The transformers side runs with .reference/venv's Python, or $PSY_BENCH_PYTHON.
// 1. Memory bandwidth: a STREAM-like copy (256 MB arrays on the CPU, 1 GB on a GPU, best of 5; read + write bytes).
// 2. Batch-1 decode in fp32 and bf16 (32-token prompt, 64 steps), as a fraction of the bound
//    weight bytes / bandwidth (every parameter is read once per token; SmolLM2's tied lm_head
//    reads the embedding matrix), and in fp32 also against the bytes decoding reads (exact bf16
//    copies of weights that hold only bf16 values: libpsy/nn/exact_bf16.h).
//    Then one pass over every projection's weights with one row of x: the few-rows kernel
//    (libpsy/nn/few_rows_matmul.h) against LibTorch's linear, same run.
// 3. The workload: the quickstart recipe's held-out prompts in the model's chat template (the real
//    English test split with --data shared, else the bundled sample), first N (default 48):
//    psy continuous batching with S slots (default 8) and how many prompt tokens it reused from
//    earlier prompts (prefix_store.h), the same without that reuse, and the prefill share (every
//    prompt's whole prefill timed again on its own); psy's static batches of S in input order
//    (what `psy eval` did before); transformers generate, batches of S sorted by length, sdpa,
//    same threads (tests/reference/hf_greedy_generate.py). Tokens/s counts generated tokens.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "bench/bench_cli.h"
#include "bench/device_bandwidth.h"
#include "libpsy/evaluate/held_out_examples.h"
#include "libpsy/generate/continuous_batching.h"
#include "libpsy/generate/prefix_store.h"
#include "libpsy/nn/exact_bf16.h"
#include "libpsy/nn/few_rows_matmul.h"
#include "libpsy/nn/kv_cache.h"
#include "libpsy/nn/decode_layers_cpu.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/text/tokenizer.h"
#include "libpsy/runtime/process_environment.h"

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double decode_tokens_per_s(psy::DecoderImpl& d) {
  torch::NoGradGuard no_grad;
  torch::Tensor ids = torch::randint(3, 1000, {1, 32}, torch::TensorOptions().dtype(torch::kInt64));
  std::vector<double> runs;
  for (int r = 0; r < 3; ++r) {
    psy::KVCache cache(d.config().num_hidden_layers);
    cache.reserve(32 + 64);
    torch::Tensor logits = d.next_token_logits(ids, {}, &cache);
    const double t0 = now_s();
    for (int s = 0; s < 64; ++s) logits = d.next_token_logits(logits.argmax(-1).view({1, 1}), {}, &cache);
    psy::bench::sync_device(d.device());
    runs.push_back(64.0 / (now_s() - t0));
  }
  return median(runs);
}

// Milliseconds per decode step of `rows` sequences over a cache of `past` positions, with the
// padding mask continuous batching passes (all ones here): median of 16 steps.
double decode_step_ms(psy::DecoderImpl& d, int64_t rows, int64_t past) {
  torch::NoGradGuard no_grad;
  psy::KVCache cache(d.config().num_hidden_layers);
  cache.reserve(past + 16);
  torch::Tensor logits = d.next_token_logits(torch::randint(3, 1000, {rows, past}, torch::kInt64), {}, &cache);
  std::vector<double> steps;
  for (int64_t s = 0; s < 16; ++s) {
    torch::Tensor mask = torch::ones({rows, past + s + 1}, torch::kInt64);
    torch::Tensor pos = torch::full({rows, 1}, past + s, torch::kInt64);
    const double t0 = now_s();
    logits = d.next_token_logits(logits.argmax(-1).view({rows, 1}), mask, &cache, pos);
    steps.push_back(1e3 * (now_s() - t0));
  }
  return median(steps);
}

// Milliseconds for one row of x through every projection (median of 5 passes): the few-rows
// kernel, LibTorch's linear, or LibTorch's mv (what a 1-row product costs without the kernel).
enum class RowProduct { Linear, FewRowsKernel, Mv };
double projections_pass_ms(psy::DecoderImpl& d, RowProduct how, int64_t rows = 1) {
  torch::NoGradGuard no_grad;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> weights_x;
  for (const auto& named : d.projections()) {
    const torch::Tensor& w = named.second->weight;
    weights_x.emplace_back(w, torch::randn({rows, w.size(1)}).to(w.scalar_type()));
  }
  std::vector<double> runs;
  for (int r = 0; r < 5; ++r) {
    const double t0 = now_s();
    for (const auto& [w, x] : weights_x) {
      if (how == RowProduct::FewRowsKernel) psy::few_rows_matmul(x, w, {});
      else if (how == RowProduct::Mv) torch::mv(w, x.view({-1}));
      else torch::nn::functional::linear(x, w);
    }
    runs.push_back(1e3 * (now_s() - t0));
  }
  return median(runs);
}

// The few-rows kernel's read rate per weight shape (one row of x, the same matrix 20 times after a
// warm-up, so the cost per call shows beside the streaming rate: small matrices pay the call).
void kernel_rate_by_shape(psy::DecoderImpl& d) {
  torch::NoGradGuard no_grad;
  std::map<std::pair<int64_t, int64_t>, torch::Tensor> shapes;
  for (const auto& named : d.projections()) shapes.emplace(std::make_pair(named.second->weight.size(0), named.second->weight.size(1)), named.second->weight);
  for (const auto& [shape, w] : shapes) {
    const torch::Tensor x = torch::randn({1, w.size(1)}).to(w.scalar_type());
    psy::few_rows_matmul(x, w, {});
    std::vector<double> runs;
    for (int r = 0; r < 20; ++r) {
      const double t0 = now_s();
      psy::few_rows_matmul(x, w, {});
      runs.push_back(now_s() - t0);
    }
    const double t = median(runs);
    const double mb = static_cast<double>(w.numel() * w.element_size()) / 1e6;
    std::cout << "      [" << shape.first << " x " << shape.second << "] " << mb << " MB: " << 1e6 * t << " us = " << mb / 1e3 / t << " GB/s\n";
  }
}

// Bytes of distinct parameter storage (a tied lm_head shares the embeddings: counted once). With
// `as_read`, an fp32 CPU parameter holding only bf16 values counts 2 bytes a value: decoding reads
// its exact bf16 copy (libpsy/nn/exact_bf16.h).
int64_t parameter_bytes(psy::DecoderImpl& d, bool as_read = false) {
  int64_t bytes = 0;
  std::set<const void*> seen;
  for (const auto& p : d.parameters()) {
    if (!seen.insert(p.data_ptr()).second) continue;
    const bool narrow = as_read && psy::holds_only_bf16_values(p);
    bytes += p.numel() * (narrow ? 2 : static_cast<int64_t>(p.element_size()));
  }
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  psy::settle_process_environment(argv);  // OpenBLAS kernels and OpenMP policy as psy runs them
  int prompts_n = 48, slots = 8, new_tokens = 128, threads = 2;
  std::string data = "sample";
  bool python = true, static_batches = true, decode_only = false, compare_no_reuse = true;
  int64_t prefix_cache_mb = 512;
  std::vector<torch::ScalarType> decode_dtypes = {torch::kFloat32, torch::kBFloat16};
  std::string device_name = "cpu", model_dir;
  torch::ScalarType dtype = torch::kFloat32;
  const auto dtype_of = [](const std::string& name) { return name == "bf16" ? torch::kBFloat16 : torch::kFloat32; };
  psy::ArgParser p("bench_eval_generate", "Batch-1 decode against the bandwidth bound, and the eval workload: psy against transformers.");
  p.option("prompts", "N", "held-out prompts in the workload", "48")
      .option("slots", "S", "sequences decoded together (transformers: batch size)", "8")
      .option("new-tokens", "T", "new tokens per prompt at most", "128")
      .option("threads", "N", "CPU threads", "2")
      .option("data", "sample|shared", "the bundled sample, or the real English test split in ../shared", "sample")
      .flag("no-python", "skip transformers")
      .flag("skip-static", "skip psy's static batches")
      .flag("skip-no-reuse", "skip the run without prefix reuse")
      .option("prefix-cache-mb", "MB", "the prefix store's budget", "512")
      .flag("decode-only", "only the bandwidth and batch-1 decode part")
      .flag("workload-only", "only the workload")
      .option("decode-dtype", "fp32|bf16|both", "the batch-1 decode's dtypes", "both")
      .option("device", "cpu|cuda", "where everything runs (transformers too)", "cpu")
      .option("dtype", "fp32|bf16", "the workload's dtype", "fp32")
      .option("model", "DIR", "another folder of SmolLM2's kind (default .reference/models/smollm2-135m-instruct)")
      .option("layers", "raw|modules", "the workload's decode steps on raw buffers (decode_layers_cpu.h) or through the modules", "raw");
  bool raw_layers = true;
  if (const int done = psy::bench::parse(p, argc, argv, [&](const psy::ParsedArgs& a) {
        prompts_n = static_cast<int>(psy::bench::at_least(a, "prompts", 1));
        slots = static_cast<int>(psy::bench::at_least(a, "slots", 1));
        new_tokens = static_cast<int>(psy::bench::at_least(a, "new-tokens", 1));
        threads = static_cast<int>(psy::bench::at_least(a, "threads", 1));
        data = psy::bench::choice(a, "data", {"sample", "shared"});
        python = !a.flag("no-python");
        static_batches = !a.flag("skip-static");
        compare_no_reuse = !a.flag("skip-no-reuse");
        prefix_cache_mb = psy::bench::at_least(a, "prefix-cache-mb", 0);
        decode_only = a.flag("decode-only");
        if (decode_only && a.flag("workload-only")) throw psy::Error("--decode-only and --workload-only exclude each other");
        const std::string which = psy::bench::choice(a, "decode-dtype", {"fp32", "bf16", "both"});
        if (which != "both") decode_dtypes = {dtype_of(which)};
        if (a.flag("workload-only")) decode_dtypes.clear();
        device_name = psy::bench::choice(a, "device", {"cpu", "cuda"});
        dtype = dtype_of(psy::bench::choice(a, "dtype", {"fp32", "bf16"}));
        model_dir = a.get("model");
        raw_layers = psy::bench::choice(a, "layers", {"raw", "modules"}) == "raw";
      });
      done >= 0)
    return done;
  const std::string root = PSY_SOURCE_DIR;
  const std::string model = model_dir.empty() ? root + "/.reference/models/smollm2-135m-instruct" : model_dir;
  if (!std::ifstream(model + "/config.json")) {
    std::cout << "bench_eval_generate: SKIPPED (" << model << " is missing: run scripts/setup-reference.sh)\n";
    return 0;
  }
  torch::set_num_threads(threads);
  const torch::Device device(device_name);
  const bool on_cpu = device.is_cpu();
  std::cout << "bench_eval_generate: " << model << ", " << device_name << ", " << threads << " threads, LibTorch " << TORCH_VERSION
            << ", OMP_WAIT_POLICY=" << (std::getenv("OMP_WAIT_POLICY") ? std::getenv("OMP_WAIT_POLICY") : "unset") << "\n";

  const double bandwidth = decode_dtypes.empty() ? 0.0 : psy::bench::copy_bandwidth_gbs(device);
  if (!decode_dtypes.empty()) std::cout << "  memory bandwidth (copy, best of 5): " << bandwidth << " GB/s\n";
  for (auto decode_dtype : decode_dtypes) {
    psy::DecoderOptions o;
    o.dtype = decode_dtype;
    o.device = device;
    psy::Decoder d = psy::load_decoder(model, o);
    d->eval();
    const double tps = decode_tokens_per_s(*d);
    const double bytes = static_cast<double>(parameter_bytes(*d));
    const double bound = bandwidth * 1e9 / bytes;
    std::cout << "  batch-1 decode " << (decode_dtype == torch::kFloat32 ? "fp32" : "bf16") << ": " << tps << " tok/s (median of 3 x 64 steps); weights "
              << bytes / 1e6 << " MB, bound " << bound << " tok/s: " << 100.0 * tps / bound << "% of the bound\n";
    if (const double read = static_cast<double>(parameter_bytes(*d, /*as_read=*/true)); on_cpu && read < bytes) {
      const double read_bound = bandwidth * 1e9 / read;
      std::cout << "    the weights as decoding reads them (exact bf16 copies of bf16-valued fp32 weights): " << read / 1e6
                << " MB, bound " << read_bound << " tok/s: " << 100.0 * tps / read_bound << "% of it\n";
    }
    if (!on_cpu) continue;  // the rest times the CPU's few-rows kernel
    const double kernel_ms = projections_pass_ms(*d, RowProduct::FewRowsKernel);
    const double linear_ms = projections_pass_ms(*d, RowProduct::Linear);
    const double mv_ms = projections_pass_ms(*d, RowProduct::Mv);
    std::cout << "    one row through every projection: few-rows kernel (" << psy::to_string(psy::few_rows_matmul_isa())
              << ") " << kernel_ms << " ms, LibTorch linear " << linear_ms << " ms (" << linear_ms / kernel_ms
              << "x), LibTorch mv " << mv_ms << " ms (" << mv_ms / kernel_ms << "x)\n";
    kernel_rate_by_shape(*d);
    std::cout << "    8-row decode step over 200 cached positions: " << decode_step_ms(*d, 8, 200)
              << " ms\n    rows through every projection (few-rows kernel):";
    for (int64_t rows : {1, 2, 4, 8, 16}) std::cout << " " << rows << ": " << projections_pass_ms(*d, RowProduct::FewRowsKernel, rows) << " ms;";
    std::cout << "\n";
  }
  if (decode_only) return 0;

  std::vector<std::string> overrides = {"model.path=" + model, "eval.max_samples=" + std::to_string(prompts_n)};
  if (data == "shared") {
    overrides.push_back("data.path=" + root + "/../shared/data/psy-insight/en_data_version7.json");
    overrides.push_back("data.test_fraction=0.15");
  } else {
    overrides.push_back("data.test_fraction=0.85");
  }
  const psy::Recipe recipe = psy::load_recipe(root + "/recipes/quickstart.yaml", overrides);
  const psy::Tokenizer tok = psy::Tokenizer::load(model);
  const psy::HeldOutSet held = psy::held_out_examples(recipe, tok, psy::eval_prompt_budget(recipe));
  std::vector<std::vector<int64_t>> prompts;
  int64_t prompt_tokens = 0;
  for (const auto& e : held.examples) {
    prompts.emplace_back(e.prompt.input_ids.begin(), e.prompt.input_ids.end());
    prompt_tokens += static_cast<int64_t>(prompts.back().size());
  }
  psy::DecoderOptions workload_options;
  workload_options.device = device;
  workload_options.dtype = dtype;
  workload_options.cpu_decode_layers = raw_layers;
  psy::Decoder d = psy::load_decoder(model, workload_options);
  d->eval();
  const char* dtype_name = dtype == torch::kFloat32 ? "fp32" : "bf16";
  psy::GenerationOptions g;
  g.max_new_tokens = new_tokens;
  g.prefix_cache_bytes = prefix_cache_mb << 20;
  g.eos_ids = d->config().eos_token_ids;
  if (tok.eos_id() >= 0 && std::find(g.eos_ids.begin(), g.eos_ids.end(), tok.eos_id()) == g.eos_ids.end()) g.eos_ids.push_back(tok.eos_id());
  g.pad_id = g.eos_ids.empty() ? 0 : g.eos_ids[0];
  const int64_t raw_steps_before = psy::decode_layers_cpu_steps();
  std::cout << "  workload: " << prompts.size() << " held-out prompts (" << data << " data, " << prompt_tokens / std::max<size_t>(prompts.size(), 1)
            << " tokens on average), up to " << new_tokens << " new tokens, greedy, " << dtype_name << ", " << slots << " slots\n";

  std::vector<std::vector<int64_t>> continuous(prompts.size());
  double t0 = now_s();
  const psy::ContinuousStats stats = psy::generate_continuous(
      *d, prompts, g, slots, nullptr, [&](std::size_t i, psy::GeneratedRow r) { continuous[i] = std::move(r.new_ids); });
  const double t_cont = now_s() - t0;
  int64_t generated = 0;
  for (const auto& r : continuous) generated += static_cast<int64_t>(r.size());
  std::cout << "  psy continuous batching: " << generated << " tokens in " << t_cont << " s = " << generated / t_cont
            << " tok/s; " << stats.reused_prompt_tokens << " of " << stats.prompt_tokens
            << " prompt tokens reused from earlier prompts (prefix cache " << (g.prefix_cache_bytes >> 20) << " MB); admissions "
            << stats.prefill_seconds << " s, decode steps " << stats.decode_seconds << " s (" << stats.decode_steps
            << " steps, " << static_cast<double>(stats.decode_rows) / std::max<int64_t>(stats.decode_steps, 1)
            << " running rows per step; " << psy::decode_layers_cpu_steps() - raw_steps_before
            << " through decode_layers_cpu)\n";
  if (compare_no_reuse) {  // the same without prefix reuse, in the same run
    psy::GenerationOptions plain = g;
    plain.prefix_cache_bytes = 0;
    std::vector<std::vector<int64_t>> outs(prompts.size());
    t0 = now_s();
    const psy::ContinuousStats plain_stats = psy::generate_continuous(
        *d, prompts, plain, slots, nullptr, [&](std::size_t i, psy::GeneratedRow r) { outs[i] = std::move(r.new_ids); });
    const double t_plain = now_s() - t0;
    int same = 0;
    for (std::size_t i = 0; i < outs.size(); ++i) same += outs[i] == continuous[i] ? 1 : 0;
    std::cout << "  psy continuous batching without prefix reuse: " << t_plain << " s (" << t_plain / t_cont
              << "x the time with it; admissions " << plain_stats.prefill_seconds << " s, decode steps "
              << plain_stats.decode_seconds << " s); identical outputs " << same << " of " << outs.size() << "\n";
  }
  {  // What the prompts cost on their own: every prefill again, batch 1, in admission order, as
     // admission runs it (with the prefix store) and whole.
    torch::NoGradGuard no_grad;
    const auto prefills = [&](int64_t store_bytes) {
      psy::PrefixStore store(store_bytes);
      const double start = now_s();
      for (std::size_t i : psy::admission_order(prompts, static_cast<std::size_t>(slots))) {
        const auto& p = prompts[i];
        const auto n = static_cast<int64_t>(p.size());
        const psy::PrefixStore::Match m = store.longest_prefix(p);
        psy::KVCache cache = m.length > 0 ? m.cache->prefix_copy(m.length, n) : psy::KVCache(d->config().num_hidden_layers);
        cache.reserve(n);
        const std::vector<int64_t> rest(p.begin() + m.length, p.end());
        d->next_token_logits(torch::tensor(rest, torch::kInt64).view({1, n - m.length}), {}, &cache);
        store.add(p, std::move(cache));
      }
      psy::bench::sync_device(device);
      return now_s() - start;
    };
    const double t_whole = prefills(0);
    const double t_prefill = prefills(g.prefix_cache_bytes);
    std::cout << "    of which prefill (every prompt again, batch 1, with the prefix store): " << t_prefill << " s = "
              << 100.0 * t_prefill / t_cont << "%; decoding " << t_cont - t_prefill << " s = "
              << generated / (t_cont - t_prefill) << " tok/s; every prompt prefilled whole: " << t_whole << " s ("
              << prompt_tokens / t_whole << " prompt tokens/s)\n";
  }

  if (static_batches) {
    t0 = now_s();
    int64_t n = 0;
    for (std::size_t s = 0; s < prompts.size(); s += static_cast<std::size_t>(slots)) {
      std::vector<std::vector<int64_t>> chunk(prompts.begin() + static_cast<std::ptrdiff_t>(s),
                                              prompts.begin() + static_cast<std::ptrdiff_t>(std::min(prompts.size(), s + static_cast<std::size_t>(slots))));
      for (const auto& r : psy::generate(*d, chunk, g).rows) n += static_cast<int64_t>(r.new_ids.size());
    }
    const double t_static = now_s() - t0;
    std::cout << "  psy static batches:      " << n << " tokens in " << t_static << " s = " << n / t_static << " tok/s ("
              << t_static / t_cont << "x the continuous time)\n";
  }

  if (python) {
    const char* py_env = std::getenv("PSY_BENCH_PYTHON");  // another Python with torch + transformers (a GPU machine)
    const std::string py = py_env != nullptr && *py_env != '\0' ? std::string(py_env) : root + "/.reference/venv/bin/python";
    const std::string job =
        (std::filesystem::temp_directory_path() / ("psy-bench-eval-generate-" + std::to_string(::getpid()) + ".json")).string();
    std::ofstream(job) << nlohmann::json({{"model", model}, {"prompts", prompts}, {"max_new_tokens", new_tokens}, {"eos_ids", g.eos_ids},
                                          {"batch_size", slots}, {"sort_by_length", true}, {"threads", threads}, {"margins", false},
                                          {"device", device_name}, {"dtype", dtype_name}})
                              .dump();
    const std::string cmd = py + " " + root + "/tests/reference/hf_greedy_generate.py " + job;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[65536];
    size_t got;
    while (pipe && (got = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, got);
    if (pipe) ::pclose(pipe);
    std::filesystem::remove(job);
    try {
      const auto j = nlohmann::json::parse(out);
      const double s = j["seconds"].get<double>();
      const auto n = j["new_tokens"].get<int64_t>();
      const auto outs = j["outputs"].get<std::vector<std::vector<int64_t>>>();
      int same = 0;
      for (std::size_t i = 0; i < outs.size() && i < continuous.size(); ++i) same += outs[i] == continuous[i] ? 1 : 0;
      std::cout << std::flush;
      std::cout << "  transformers " << j["transformers"].get<std::string>() << " generate (batches of " << slots
                << ", sorted by length): " << n << " tokens in " << s << " s = " << n / s << " tok/s\n"
                << "  psy continuous / transformers: " << (generated / t_cont) / (n / s) << "x tokens/s; identical outputs "
                << same << " of " << outs.size() << "\n";
    } catch (const std::exception& e) {
      std::cout << "  transformers baseline failed: " << e.what() << "\n";
    }
  }
  return 0;
}
