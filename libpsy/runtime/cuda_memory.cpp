#include "libpsy/runtime/cuda_memory.h"

#ifdef PSY_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace psy {

#ifdef PSY_WITH_CUDA
namespace {
// Index 0 of every statistic array is the aggregate over pool kinds (StatType::AGGREGATE).
constexpr int kAggregate = 0;
auto stats(int device) { return c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device)); }
}  // namespace

int64_t cuda_allocated_bytes(int device) { return stats(device).allocated_bytes[kAggregate].current; }
int64_t cuda_peak_allocated_bytes(int device) { return stats(device).allocated_bytes[kAggregate].peak; }
int64_t cuda_peak_reserved_bytes(int device) { return stats(device).reserved_bytes[kAggregate].peak; }
void reset_cuda_peak_memory(int device) {
  c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device));
}
#else
int64_t cuda_allocated_bytes(int) { return -1; }
int64_t cuda_peak_allocated_bytes(int) { return -1; }
int64_t cuda_peak_reserved_bytes(int) { return -1; }
void reset_cuda_peak_memory(int) {}
#endif

}  // namespace psy
