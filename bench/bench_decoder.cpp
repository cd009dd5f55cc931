// bench-libs: psy_process psy_nn psy_dist psy_io psy_core
// Decoder speed and loading cost. Prints numbers, never fails on speed.
//   bench_decoder [--threads N] [--device cpu|cuda] [--shape small|7b] [--runs N]
// small: a ~106M-parameter Llama shape (hidden 768, 8 layers, 12 heads, 4 KV heads,
// intermediate 2048, vocab 32000), random weights. 7b: Mistral-7B's shape (GPU only).
// Reports prefill tokens/s (one forward over a 256-token prompt) and decode tokens/s (64
// single-token steps with the KV cache after a 32-token prompt), medians over runs, in fp32
// and bf16, and decode as a fraction of the bound copy bandwidth / weight bytes (a 1 GB copy on a
// GPU, 256 MB on the CPU, read + write bytes, best of 5: every weight is read once per token); then
// writes the bf16 checkpoint to a temporary folder and reports, in a fresh process, the time to
// load it and that process's peak RSS.
#include <filesystem>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

#include <torch/torch.h>

#include "bench/bench_cli.h"
#include "bench/device_bandwidth.h"
#include "libpsy/dist/memory_plan.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/runtime/process_environment.h"
#include "tests/tiny_decoder.h"

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A /proc/self/status field in kB (VmHWM = peak RSS; RssAnon = private memory; RssFile = mapped files).
long status_kb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

psy::DecoderConfig shape(const std::string& name) {
  if (name == "7b") return psy::dist::known_model_shape("mistral-7b");
  psy::test::TinyDecoderShape s;  // the bench's small llama: the tests' helper, larger
  s.eos_token_ids = {2};
  s.vocab_size = 32000;
  s.hidden_size = 768;
  s.intermediate_size = 2048;
  s.num_hidden_layers = 8;
  s.num_attention_heads = 12;
  s.num_key_value_heads = 4;
  s.head_dim = 64;
  return s.config();
}

}  // namespace

int main(int argc, char** argv) {
  psy::settle_process_environment(argv);  // OpenBLAS kernels and OpenMP policy as psy runs them
  std::string device_name = "cpu", shape_name = "small", load_dir;
  int threads = 2, runs = 5;
  psy::ArgParser p("bench_decoder", "Decoder prefill and decode speed on a model shape (random weights), and loading cost.");
  p.option("threads", "N", "CPU threads", "2")
      .option("device", "cpu|cuda[:N]", "where the model runs", "cpu")
      .option("shape", "small|7b", "a ~106M-parameter Llama, or Mistral-7B's shape (GPU)", "small")
      .option("runs", "N", "runs (median reported)", "5")
      .option("load", "DIR|none", "internal: the child process that loads a checkpoint and reports its memory");
  if (const int done = psy::bench::parse(p, argc, argv, [&](const psy::ParsedArgs& a) {
        threads = static_cast<int>(psy::bench::at_least(a, "threads", 1));
        device_name = psy::bench::device(a, "device");
        shape_name = psy::bench::choice(a, "shape", {"small", "7b"});
        runs = static_cast<int>(psy::bench::at_least(a, "runs", 1));
        load_dir = a.get("load");
      });
      done >= 0)
    return done;
  torch::set_num_threads(threads);
  const torch::Device device(device_name);
  if (load_dir == "none") {  // child mode: the RSS of a process that only initialised LibTorch
    torch::Tensor t = torch::ones({4}).sum();
    std::printf("0 %ld %ld %ld\n", status_kb("VmHWM"), status_kb("RssAnon"), status_kb("RssFile"));
    return 0;
  }
  if (!load_dir.empty()) {  // child mode: load and report
    psy::DecoderOptions o;
    o.dtype = torch::kBFloat16;
    o.device = device;
    const double t0 = now_s();
    psy::Decoder d = psy::load_decoder(load_dir, o);
    psy::bench::sync_device(device);
    std::printf("%.3f %ld %ld %ld\n", now_s() - t0, status_kb("VmHWM"), status_kb("RssAnon"), status_kb("RssFile"));
    return 0;
  }
  const psy::DecoderConfig config = shape(shape_name);
  torch::NoGradGuard no_grad;
  std::cout << "bench_decoder: shape " << shape_name << ", device " << device_name << ", " << threads
            << " threads, LibTorch " << TORCH_VERSION << "\n";
  const double bandwidth = psy::bench::copy_bandwidth_gbs(device);
  std::cout << "  copy bandwidth: " << bandwidth << " GB/s\n";
  std::string saved;
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    psy::DecoderOptions o;
    o.dtype = dtype;
    o.device = device;
    torch::manual_seed(0);
    psy::Decoder d(config, o);
    d->init_random_weights();
    d->eval();
    int64_t params = 0;
    for (const auto& p : d->parameters()) params += p.numel();
    const int64_t prompt = 256, decode_prompt = 32, steps = 64;
    torch::Tensor ids = torch::randint(3, config.vocab_size, {1, prompt}, torch::TensorOptions().dtype(torch::kInt64)).to(device);
    d->forward(ids.narrow(1, 0, 16));  // warm-up
    std::vector<double> prefill, decode;
    for (int r = 0; r < runs; ++r) {
      psy::bench::sync_device(device);
      double t0 = now_s();
      d->forward(ids);
      psy::bench::sync_device(device);
      prefill.push_back(static_cast<double>(prompt) / (now_s() - t0));
    }
    for (int r = 0; r < std::max(1, runs / 2 + 1); ++r) {
      psy::KVCache cache(config.num_hidden_layers);
      torch::Tensor logits = d->forward(ids.narrow(1, 0, decode_prompt), {}, &cache);
      psy::bench::sync_device(device);
      double t0 = now_s();
      for (int64_t s = 0; s < steps; ++s) {
        torch::Tensor next = logits.select(1, logits.size(1) - 1).argmax(-1).view({1, 1});
        logits = d->forward(next, {}, &cache);
      }
      psy::bench::sync_device(device);
      decode.push_back(static_cast<double>(steps) / (now_s() - t0));
    }
    const double pf = median(prefill);
    std::cout << "  " << (dtype == torch::kFloat32 ? "fp32" : "bf16") << ": " << params / 1e6
              << "M params; prefill " << pf << " tok/s (median of " << runs << ", 256-token prompt); decode "
              << median(decode) << " tok/s (64 steps with KV cache) = "
              << 100.0 * median(decode) * static_cast<double>(params) * (dtype == torch::kFloat32 ? 4.0 : 2.0) / (bandwidth * 1e9)
              << "% of the copy bound";
    if (device.is_cuda() && dtype == torch::kBFloat16) {
      // ~2 flops per parameter per token (+ attention, ignored): fraction of a given bf16 peak.
      const char* peak = std::getenv("PSY_BENCH_PEAK_TFLOPS");
      const double tflops = 2.0 * static_cast<double>(params) * pf / 1e12;
      std::cout << "; prefill ~" << tflops << " TFLOP/s";
      if (peak) std::cout << " = " << 100.0 * tflops / std::atof(peak) << "% of " << peak << " TFLOP/s bf16 peak";
    }
    std::cout << "\n";
    if (dtype == torch::kBFloat16 && !device.is_cuda()) {
      std::string templ = (std::filesystem::temp_directory_path() / "psy-bench-decoder-XXXXXX").string();
      saved = ::mkdtemp(templ.data());
      psy::save_decoder(*d, saved);
    }
  }
  if (!saved.empty()) {
    std::vector<double> times;
    long rss = 0, anon = 0, file = 0, base_rss = 0, base_anon = 0;
    for (int r = 0; r < 4; ++r) {
      const std::string what = r == 0 ? std::string("none") : saved;
      std::string cmd = "/proc/" + std::to_string(::getpid()) + "/exe --threads " + std::to_string(threads) +
                        " --device " + device_name + " --load " + what;
      FILE* pipe = ::popen(cmd.c_str(), "r");
      double t = 0;
      long kb = 0, a = 0, f = 0;
      if (pipe && std::fscanf(pipe, "%lf %ld %ld %ld", &t, &kb, &a, &f) == 4) {
        if (r == 0) {
          base_rss = kb;
          base_anon = a;
        } else {
          times.push_back(t);
          rss = std::max(rss, kb);
          anon = std::max(anon, a);
          file = std::max(file, f);
        }
      }
      if (pipe) ::pclose(pipe);
    }
    std::ifstream f(saved + "/model.safetensors", std::ios::ate | std::ios::binary);
    const double file_mb = static_cast<double>(f.tellg()) / 1e6;
    if (!times.empty()) {
      std::cout << "  load bf16 checkpoint (" << file_mb << " MB): " << median(times) << " s (median of "
                << times.size() << "); loading process: peak RSS " << rss / 1024.0 << " MB (LibTorch alone: "
                << base_rss / 1024.0 << " MB), private memory " << anon / 1024.0 << " MB (alone: " << base_anon / 1024.0
                << " MB), mapped file pages " << file / 1024.0 << " MB\n";
    }
    std::system(("rm -rf '" + saved + "'").c_str());
  }
  return 0;
}
