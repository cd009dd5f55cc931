// What the benches measure a device's memory against: a large copy's rate (the bound of a decode
// that reads every weight once per token is this rate / the weights' bytes).
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>

#include <torch/torch.h>

namespace psy::bench {

// Waits for the device's queued work (timings on a GPU).
inline void sync_device(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

// GB/s of a large copy on the device (read + write bytes, best of 5): 1 GB on a GPU, 256 MB on the CPU.
inline double copy_bandwidth_gbs(const torch::Device& device) {
  const int64_t n = (device.is_cuda() ? 256 : 64) * int64_t{1024 * 1024};  // floats
  torch::Tensor a = torch::ones({n}, torch::TensorOptions().device(device)), b = torch::empty_like(a);
  double best = 0;
  for (int r = 0; r < 5; ++r) {
    sync_device(device);
    const auto t0 = std::chrono::steady_clock::now();
    b.copy_(a);
    sync_device(device);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * 4.0 * static_cast<double>(n) / seconds / 1e9);
  }
  return best;
}

}  // namespace psy::bench
