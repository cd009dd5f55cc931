// LibTorch runtime facts and settings: threads, BLAS, CUDA devices.
#pragma once
#include <string>

namespace psy {

// Sets LibTorch's intra-op thread count; 0 means all cores. Returns the count in effect.
int set_threads(int threads);

struct RuntimeInfo {
  std::string torch_version;
  bool cuda_available = false;
  int cuda_devices = 0;
  std::string blas;  // the BLAS library actually loaded, e.g. "OpenBLAS (openblas-pthread)"
  std::string blas_core;  // OpenBLAS's kernels ("SkylakeX", ...; openblas_core.h); empty without OpenBLAS
  int threads = 0;
};

RuntimeInfo runtime_info();

// Cores this process may run on.
int available_cores();

}  // namespace psy
