// GPU memory as LibTorch's CUDA caching allocator counts it (what torch.cuda.max_memory_allocated
// reports in Python). In a build without CUDA every figure is -1.
#pragma once
#include <cstdint>

namespace psy {

// Bytes held by tensors on CUDA device `device` now / at most since the last reset.
int64_t cuda_allocated_bytes(int device);
int64_t cuda_peak_allocated_bytes(int device);
// Bytes the allocator has reserved from the driver at most (allocated + its cache).
int64_t cuda_peak_reserved_bytes(int device);
void reset_cuda_peak_memory(int device);

}  // namespace psy
