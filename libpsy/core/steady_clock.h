// Wall time for progress and timing figures: steady_clock (never jumps with the system clock).
#pragma once
#include <chrono>

namespace psy {

using Clock = std::chrono::steady_clock;

// Seconds from `start` to now.
inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace psy
