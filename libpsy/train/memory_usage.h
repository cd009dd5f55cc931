// Resident memory of this process, from /proc/self/status (0 where unavailable). No LibTorch.
#pragma once
#include <cstdint>

namespace psy {

int64_t current_rss_bytes();  // VmRSS
int64_t peak_rss_bytes();     // VmHWM: the high-water mark since the process started

}  // namespace psy
