#include "libpsy/runtime/runtime.h"

#include <fstream>
#include <sched.h>
#include <thread>

#include <torch/torch.h>

#include "libpsy/runtime/openblas_core.h"

namespace psy {

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

int set_threads(int threads) {
  int n = threads > 0 ? threads : available_cores();
  torch::set_num_threads(n);
  return torch::get_num_threads();
}

namespace {
// Debian's LibTorch links libblas.so.3, which the alternatives system points to the reference
// BLAS or OpenBLAS; the compile-time config cannot tell, so read what is mapped.
std::string loaded_blas() {
  std::ifstream maps("/proc/self/maps");
  std::string line, found;
  while (std::getline(maps, line)) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    if (path.find("mkl") != std::string::npos) return "MKL (" + path + ")";
    if (path.find("openblas") != std::string::npos) return "OpenBLAS (" + path + ")";
    if (path.find("blis") != std::string::npos) return "BLIS (" + path + ")";
    if (path.find("libblas.so") != std::string::npos) found = path;
  }
  if (!found.empty()) return "reference BLAS, slow: install libopenblas0-pthread (" + found + ")";
  // PyTorch's own builds link MKL statically into libtorch_cpu: nothing separate is mapped.
  if (at::hasMKL()) return "MKL (linked into LibTorch)";
  return "none loaded";
}
}  // namespace

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.torch_version = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                       std::to_string(TORCH_VERSION_PATCH);
  info.cuda_available = torch::cuda::is_available();
  info.cuda_devices = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
  // Touch BLAS so the library is mapped before we look.
  auto a = torch::ones({2, 2});
  (void)torch::mm(a, a);
  info.blas = loaded_blas();
  if (const char* core = openblas_core()) info.blas_core = core;
  info.threads = torch::get_num_threads();
  return info;
}

}  // namespace psy
